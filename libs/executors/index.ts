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
