/**
 * Stable codes a caller may map to HTTP statuses or exit codes.
 * - `CHECKPOINT_INVALID`: a checkpoint JWS that does not verify (signature, kid, typ, payload shape):
 *   a modified checkpoint, or one spliced from two.
 * - `CHECKPOINT_GAP`: a checkpoint whose `prev` is not the link of the checkpoint before it: one was
 *   deleted in between, or one of the two replaced.
 * - `CHECKPOINT_RESIGNED`: a second checkpoint for a seq already covered, checkpoints out of seq
 *   order, or a checkpoint at a trusted seq that is not the trusted one.
 * - `CHECKPOINT_MISMATCH`: a checkpoint whose `hash` is not the chain's hash at its `seq`, or whose
 *   `seq` is past the chain's end: the chain was rewritten or cut.
 * - `CHAIN_BROKEN`: the entries themselves do not recompute or link, or the stored head disagrees.
 * - `TRUST_NOT_EXTENDED`: today's checkpoints do not reach a trusted checkpoint (deleted, or the
 *   database rolled back past it).
 */
export type AuditErrorCode =
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_GAP'
  | 'CHECKPOINT_RESIGNED'
  | 'CHECKPOINT_MISMATCH'
  | 'CHAIN_BROKEN'
  | 'TRUST_NOT_EXTENDED';

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
