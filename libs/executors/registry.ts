import type { Executor } from './executor.js';
import { ExecutorError } from './executor-error.js';
import { httpExecutor } from './http-executor.js';
import { kubernetesExecutor } from './kubernetes-executor.js';
import { signExecutor } from './sign-executor.js';
import { sqlExecutor } from './sql-executor.js';
import { sshExecutor } from './ssh-executor.js';

const EXECUTORS: readonly Executor[] = [signExecutor, httpExecutor, kubernetesExecutor, sshExecutor, sqlExecutor];

/**
 * Operation kinds a policy may name. `reveal` is one, but has no executor:
 * the gateway answers it itself, and `executorFor('reveal')` throws.
 */
export const OPERATION_KINDS: readonly string[] = Object.freeze([...EXECUTORS.map((e) => e.kind), 'reveal']);

/**
 * The executor of an operation kind; KIND_UNSUPPORTED for any other.
 *
 * @example
 * const params = executorFor(body.operation.kind).validateParams(body.operation.params, credential.config);
 */
export function executorFor(kind: string): Executor {
  switch (kind) {
    case 'sign':
      return signExecutor;
    case 'http':
      return httpExecutor;
    case 'kubernetes.exec':
      return kubernetesExecutor;
    case 'ssh.exec':
      return sshExecutor;
    case 'sql.exec':
      return sqlExecutor;
    default:
      throw new ExecutorError('KIND_UNSUPPORTED', `operation kind "${String(kind).slice(0, 64)}" is not supported`);
  }
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
  return EXECUTORS.filter((e) => e.credentialKinds.includes(credentialKind));
}
