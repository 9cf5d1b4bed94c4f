/** Stable codes a caller may map to HTTP statuses or request outcomes; never match on messages. */
export type ExecutorErrorCode =
  | 'KIND_UNSUPPORTED'
  | 'PARAMS_INVALID'
  | 'CONFIG_INVALID'
  | 'SECRET_INVALID'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'UPSTREAM_FAILED'
  | 'HOST_KEY_MISMATCH';

/**
 * An operation refused or failed. Messages name the field or the failure,
 * never the secret; errors of underlying libraries are not chained because
 * their messages may echo inputs.
 *
 * @example
 * try { executor.validateParams(body.params); }
 * catch (e) { if (e instanceof ExecutorError && e.code === 'PARAMS_INVALID') reply400(e.message); }
 */
export class ExecutorError extends Error {
  override readonly name = 'ExecutorError';

  constructor(
    readonly code: ExecutorErrorCode,
    message: string,
  ) {
    super(message);
  }
}
