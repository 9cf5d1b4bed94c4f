import type { ExecutorOperationKind } from '../contracts/index.js';

/** What an executor receives for one run. `secret` belongs to the caller, who zeroes it afterwards. */
export interface ExecutionInput {
  secret: Buffer;
  config: Record<string, unknown>;
  params: Record<string, unknown>;
  signal: AbortSignal;
}

/** One adapter per operation kind (PROTOCOL.md §6). */
export interface Executor {
  /** Operation kind, e.g. `sign`, `http`. */
  readonly kind: ExecutorOperationKind;
  /** Credential kinds it works with, e.g. `['signing-key']`. */
  readonly credentialKinds: readonly string[];
  /** At credential creation. Returns the config to store, defaults filled in; throws CONFIG_INVALID. */
  validateConfig(config: unknown): Record<string, unknown>;
  /**
   * At request submission. Returns the known params, values unchanged; throws
   * PARAMS_INVALID naming the field. Pass the credential's config when known:
   * some checks depend on it (the http credential header).
   */
  validateParams(params: unknown, config?: Record<string, unknown>): Record<string, unknown>;
  /** Runs the operation and returns the §6 result object. Validates config and params again. */
  execute(input: ExecutionInput): Promise<Record<string, unknown>>;
}
