/** Stable error codes of libs/custodian; UIs map them, never the messages. */
export type CustodianErrorCode =
  | 'DIGEST_INPUT_INVALID'
  | 'DIGEST_MISMATCH'
  | 'REQUEST_EXPIRED'
  | 'REQUEST_KEY_INVALID'
  | 'SHARE_ENVELOPE_INVALID'
  | 'SHARE_HEADER_MISMATCH'
  | 'BACKUP_INVALID';

/**
 * A refusal on the custodian's side: the request or an envelope is not what
 * it claims to be. Messages never contain share or key material.
 *
 * @example
 * try { await prepareDecision(input); }
 * catch (e) { if (e instanceof CustodianError && e.code === 'DIGEST_MISMATCH') warnTampered(); }
 */
export class CustodianError extends Error {
  readonly code: CustodianErrorCode;

  constructor(code: CustodianErrorCode, message: string) {
    super(message);
    this.name = 'CustodianError';
    this.code = code;
  }
}
