import { EXECUTOR_OPERATION_KINDS, OPERATION_KINDS, type ExecutorOperationKind } from '../contracts/index.js';
import type { Executor } from './executor.js';
import { ExecutorError } from './executor-error.js';
import { httpExecutor } from './http-executor.js';
import { kubernetesExecutor } from './kubernetes-executor.js';
import { signExecutor } from './sign-executor.js';
import { sqlExecutor } from './sql-executor.js';
import { sshExecutor } from './ssh-executor.js';

/** One executor per executor operation kind: a kind added to the contracts list and missing here fails the compile. */
const EXECUTORS: Readonly<Record<ExecutorOperationKind, Executor>> = {
  sign: signExecutor,
  http: httpExecutor,
  'kubernetes.exec': kubernetesExecutor,
  'ssh.exec': sshExecutor,
  'sql.exec': sqlExecutor,
};

/**
 * Operation kinds a policy may name (the contracts list). `reveal` is one, but has
 * no executor: the gateway answers it itself, and `executorFor('reveal')` throws.
 */
export { OPERATION_KINDS };

function isExecutorKind(kind: string): kind is ExecutorOperationKind {
  return EXECUTOR_OPERATION_KINDS.some((k) => k === kind);
}

/**
 * The executor of an operation kind; KIND_UNSUPPORTED for any other.
 *
 * @example
 * const params = executorFor(body.operation.kind).validateParams(body.operation.params, credential.config);
 */
export function executorFor(kind: string): Executor {
  if (!isExecutorKind(kind)) throw new ExecutorError('KIND_UNSUPPORTED', `operation kind "${String(kind).slice(0, 64)}" is not supported`);
  return EXECUTORS[kind];
}

/**
 * The executors that can use a credential kind: at credential creation, each
 * one's `validateConfig` must accept the config. Empty for a kind that no
 * executor serves.
 *
 * @example
 * for (const executor of executorsForCredential('http-token')) config = executor.validateConfig(config);
 */
export function executorsForCredential(credentialKind: string): readonly Executor[] {
  return EXECUTOR_OPERATION_KINDS.map((kind) => EXECUTORS[kind]).filter((e) => e.credentialKinds.includes(credentialKind));
}
