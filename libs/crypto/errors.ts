/** Stable error codes of libs/crypto; callers map them, never the messages. */
export type CryptoErrorCode =
  | 'ENCODING_INVALID'
  | 'JWK_INVALID'
  | 'JWK_PRIVATE_MEMBER'
  | 'SECRET_UNSEAL_FAILED'
  | 'SECRET_BINDING_MISSING'
  | 'SECRET_BINDING_MISMATCH'
  | 'ENVELOPE_INVALID'
  | 'ENVELOPE_HEADER_MISMATCH'
  | 'SHARE_INVALID'
  | 'SHARE_COMMITMENT_MISMATCH'
  | 'SHARES_INSUFFICIENT'
  | 'STATEMENT_INVALID'
  | 'STATEMENT_KEY_MISMATCH'
  | 'STATEMENT_CLAIMS_MISMATCH'
  | 'STATEMENT_STALE'
  | 'MASTER_KEY_INVALID'
  | 'SEALED_DATA_INVALID';

/**
 * A failure caused by the data (a tampered envelope, a bad share, a wrong key).
 * Messages never contain secret material; underlying library errors are not
 * chained because their messages may echo inputs.
 *
 * @example
 * try { await openSealedSecret(sealed, key, meta); }
 * catch (e) { if (e instanceof CryptoError && e.code === 'SECRET_UNSEAL_FAILED') failClosed(); }
 */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
  }
}
