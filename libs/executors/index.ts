export { ExecutorError, type ExecutorErrorCode } from './executor-error.js';
export type { ExecutionInput, Executor } from './executor.js';
export { OPERATION_KINDS, executorFor, executorsForCredential } from './registry.js';
export {
  CREDENTIAL_KINDS,
  validateCredentialSecret,
  validateCredentialConfig,
  type CredentialKind,
} from './credential-secret.js';
export { runWithTimeout } from './run-with-timeout.js';
export { HTTP_BODY_LIMIT } from './http-executor.js';
export { EXEC_OUTPUT_LIMIT } from './output-capture.js';
export { SQL_ROW_LIMIT } from './capped-query.js';
export { KUBERNETES_EXEC_PROTOCOLS } from './kubernetes-executor.js';
export { sshFingerprint } from './ssh-key.js';
export { GENERATED_SIGNING_ALGS, generateSigningKey, type GeneratedSigningAlg } from './signing-key.js';
