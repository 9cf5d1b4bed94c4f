import { computeDigest, CustodianError, findDigestDrift, type DigestDriftField } from '../../../libs/custodian/index.ts';
import type { QgRequest } from './api.ts';
import { unrenderableReason } from './components/operation-view.tsx';
import { shortDigest } from './format.ts';

export interface Verification {
  /** The digest recomputed in this browser from `digestInput`, or null if it could not be. */
  digest: string | null;
  /** Why this browser refuses to sign; empty when it may. */
  refusals: string[];
}

/** The drifted fields in the refusal's words. */
const FIELD_WORDS: Record<DigestDriftField, string> = {
  id: 'id',
  credential: 'credential',
  operation: 'operation',
  requester: 'requester',
  reason: 'reason',
  expiresAt: 'expiry',
};

/**
 * What the custodian's browser checks before it shows an approve button.
 * Enforces: the digest recomputed from `digestInput` equals `request.digest`;
 * `digestInput` is for this request; the top-level fields shown elsewhere
 * agree with `digestInput` (the page renders `digestInput`, which is what the
 * statement signs); the operation is of a kind this UI can display in full.
 * prepareDecision repeats the digest checks when signing.
 */
export async function verifyRequest(request: QgRequest): Promise<Verification> {
  const refusals: string[] = [];
  let digest: string | null = null;
  try {
    digest = await computeDigest(request.digestInput);
  } catch (error) {
    const why = error instanceof CustodianError ? error.message : 'it cannot be read';
    refusals.push(`The request’s digest input is malformed (${why}), so this browser cannot compute what it would sign.`);
  }
  if (digest !== null && digest !== request.digest) {
    refusals.push(
      `The digest recomputed in this browser (${shortDigest(digest)}) does not match the digest the gateway sent (${shortDigest(request.digest)}): ` +
        'the request shown here is not the one that would be approved. It may have been altered.',
    );
  }
  const input = request.digestInput;
  const drift = findDigestDrift(request);
  if (drift.includes('id')) refusals.push('The digest input belongs to another request.');
  else {
    if (drift.length > 0) refusals.push(`The request’s ${drift.map((f) => FIELD_WORDS[f]).join(', ')} differ${drift.length === 1 ? 's' : ''} from what its digest covers.`);
    const unrenderable = typeof input.operation === 'object' && input.operation !== null ? unrenderableReason(input.operation) : 'there is no operation';
    if (unrenderable !== null) refusals.push(`This page cannot show the operation completely (${unrenderable}); decide with the qg CLI instead.`);
  }
  return { digest, refusals };
}
