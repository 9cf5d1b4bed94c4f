/** Stable codes a caller may map to HTTP statuses. */
export type AuditErrorCode = 'CHECKPOINT_INVALID';

/**
 * An audit artefact that does not verify.
 *
 * @example
 * try { await verifyCheckpoint(jws, jwks); }
 * catch (e) { if (e instanceof AuditError && e.code === 'CHECKPOINT_INVALID') { ... } }
 */
export class AuditError extends Error {
  override readonly name = 'AuditError';

  constructor(
    readonly code: AuditErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
