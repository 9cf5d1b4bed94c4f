import type { JWK } from 'jose';
import { signApprovalStatement } from './approval-statement.js';
import { computeDigest, parseDigestInput } from './digest.js';
import { CustodianError } from './errors.js';
import { importEcdhPublicJwk } from './keys.js';
import { openOwnShare, sealShareToRequestKey } from './share-envelope.js';

export type Decision = 'approve' | 'reject';

export interface PrepareDecisionInput {
  /** `requestKey` is null once the gateway destroyed it: nothing can be approved then. */
  request: { id: string; digest: string; digestInput: object; requestKey: JWK | null };
  /** `GET /api/v1/requests/:id/share`; required to approve. */
  shareEnvelope?: { envelope: string; index: number; group?: number };
  decision: Decision;
  userId: string;
  keys: { encryptionPrivateKey: CryptoKey; signingPrivateKey: CryptoKey; signingKid: string };
  nowSeconds: number;
}

export interface PreparedDecision {
  decision: Decision;
  statement: string;
  share?: string;
  digest: string;
}

/**
 * Builds the body of `POST /api/v1/requests/:id/approvals`. Enforces, before
 * signing anything:
 * - `digestInput` has exactly the §5 shape (DIGEST_INPUT_INVALID) and
 *   `digestInput.id` equals `request.id` (DIGEST_MISMATCH);
 * - the digest recomputed from `digestInput` equals `request.digest` (DIGEST_MISMATCH);
 * - the request has not expired at `nowSeconds` (REQUEST_EXPIRED);
 * - approve only: `requestKey` is a P-256 public key (REQUEST_KEY_INVALID); the
 *   own envelope opens (SHARE_ENVELOPE_INVALID) and its `idx`, `grp`, `cred`, `ver`
 *   are `shareEnvelope.index`, `shareEnvelope.group` and the request's credential id
 *   and version (SHARE_HEADER_MISMATCH).
 * The share is re-sealed to the request key and its bytes zeroed.
 *
 * @example
 * const body = await prepareDecision({ request, shareEnvelope, decision: 'approve', userId: me.id,
 *   keys: { encryptionPrivateKey, signingPrivateKey, signingKid }, nowSeconds: Math.floor(Date.now() / 1000) });
 */
export async function prepareDecision(input: PrepareDecisionInput): Promise<PreparedDecision> {
  const { request, shareEnvelope, decision, userId, keys } = input;
  if (decision !== 'approve' && decision !== 'reject') throw new TypeError('decision must be approve or reject');
  if (typeof userId !== 'string' || userId === '') throw new TypeError('userId must be a non-empty string');
  if (!Number.isFinite(input.nowSeconds)) throw new TypeError('nowSeconds must be a finite number');
  const nowSeconds = Math.floor(input.nowSeconds);

  const digestInput = parseDigestInput(request.digestInput);
  if (digestInput.id !== request.id) throw new CustodianError('DIGEST_MISMATCH', 'digestInput is for another request');
  const digest = await computeDigest(digestInput);
  if (digest !== request.digest) throw new CustodianError('DIGEST_MISMATCH', 'digest does not match digestInput');

  const expiresAt = Date.parse(digestInput.expiresAt);
  if (Number.isNaN(expiresAt)) throw new CustodianError('DIGEST_INPUT_INVALID', 'expiresAt is not a date');
  if (expiresAt / 1000 <= nowSeconds) throw new CustodianError('REQUEST_EXPIRED', 'request has expired');

  let share: string | undefined;
  if (decision === 'approve') {
    if (shareEnvelope === undefined) throw new TypeError('approve needs shareEnvelope');
    if (request.requestKey === null || (await importEcdhPublicJwk(request.requestKey)) === null) {
      throw new CustodianError('REQUEST_KEY_INVALID', 'request key is not a P-256 public JWK');
    }
    const opened = await openOwnShare(shareEnvelope.envelope, keys.encryptionPrivateKey);
    try {
      const { idx, grp, cred, ver } = opened.header;
      if (idx !== shareEnvelope.index || grp !== shareEnvelope.group) {
        throw new CustodianError('SHARE_HEADER_MISMATCH', 'share envelope index or group differs from the one announced');
      }
      if (cred !== digestInput.credential.id || ver !== digestInput.credential.version) {
        throw new CustodianError('SHARE_HEADER_MISMATCH', 'share is for another credential or version');
      }
      share = await sealShareToRequestKey(opened.share, request.requestKey, { req: request.id, idx, digest, ...(grp !== undefined ? { grp } : {}) });
    } finally {
      opened.share.fill(0);
    }
  }

  const statement = await signApprovalStatement(
    { req: request.id, digest, decision, sub: userId, iat: nowSeconds },
    keys.signingPrivateKey,
    keys.signingKid,
  );
  return share === undefined ? { decision, statement, digest } : { decision, statement, share, digest };
}
