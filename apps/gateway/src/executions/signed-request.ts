import { isOperationKind, type Operation } from '#libs/contracts';
import { canonicalJson, computeRequestDigest, sha256Hex } from '#libs/crypto';
import { policyDigestSubject, type PolicyDefinition } from '#libs/policy';
import type { RequestRow } from '../requests/requests.repository.js';

/** What an execution may use of a request: only what the custodians signed (spec §2 item 10). */
export interface SignedRequest {
  id: string;
  /** recomputed from the stored digest input, never read from a column */
  digest: string;
  credential: { id: string; version: number };
  operation: Operation;
  requesterId: string;
  expiresAt: Date;
  /** the policy snapshot, checked against the hash in the digest input */
  policy: PolicyDefinition;
}

/**
 * Reads a request the way a database writer cannot bend. Enforces:
 * - the digest is recomputed from the stored `digestInput`; the `digest`, `operation`,
 *   `requester_id` and `credential_version` columns are not used;
 * - the digest input is for this request (`id`);
 * - the policy snapshot the request is evaluated against hashes to the
 *   `digestInput.policy.sha256` the custodians signed, and has its id;
 * - the operation kind is one the gateway knows and `expiresAt` is a date.
 * Returns why not, instead, when any of it fails: nothing may run then. A digest input
 * edited to pass these checks has another digest, so no custodian's share matches it.
 */
export function signedRequestOf(request: Pick<RequestRow, 'id' | 'digestInput' | 'policySnapshot'>): SignedRequest | { refused: string } {
  const input = request.digestInput;
  let digest: string;
  try {
    digest = computeRequestDigest(input);
  } catch {
    return { refused: 'the stored digest input is malformed' };
  }
  if (input.id !== request.id) return { refused: 'the stored digest input is for another request' };
  const snapshot = request.policySnapshot;
  let policySha256: string;
  try {
    policySha256 = sha256Hex(canonicalJson(policyDigestSubject(snapshot)));
  } catch {
    return { refused: 'the stored policy snapshot is malformed' };
  }
  if (snapshot.id !== input.policy.id || policySha256 !== input.policy.sha256) return { refused: 'the stored policy snapshot is not the one the request was signed with' };
  const kind = input.operation.kind;
  if (!isOperationKind(kind)) return { refused: 'the signed operation kind is unknown' };
  const expiresAt = new Date(input.expiresAt);
  if (Number.isNaN(expiresAt.getTime())) return { refused: 'the signed expiry is not a date' };
  return {
    id: input.id,
    digest,
    credential: { id: input.credential.id, version: input.credential.version },
    operation: { kind, params: input.operation.params },
    requesterId: input.requester,
    expiresAt,
    policy: snapshot,
  };
}
