import canonicalize from 'canonicalize';
import { isRecord } from './encoding.js';

/** The fields of the signed content (PROTOCOL §5) that a request also carries at its top level, in §5 order. */
export const DIGEST_DRIFT_FIELDS = ['id', 'credential', 'operation', 'requester', 'reason', 'expiresAt'] as const;
export type DigestDriftField = (typeof DIGEST_DRIFT_FIELDS)[number];

/** What `findDigestDrift` reads of a request (`GET /requests/:id`): its top-level fields and the `digestInput` it signs. */
export interface DigestDriftSubject {
  id: string;
  credential: { id: string; version: number };
  operation: { kind: string; params: Record<string, unknown> };
  /** compared by `id` with `digestInput.requester` */
  requester: { id: string };
  reason: string;
  expiresAt: string;
  /** as received: not trusted to have the §5 shape */
  digestInput: unknown;
}

/** Equal as RFC 8785 canonical JSON; a value that cannot be canonicalised equals nothing. */
function sameCanonical(a: unknown, b: unknown): boolean {
  try {
    const json = canonicalize(a);
    return json !== undefined && json === canonicalize(b);
  } catch {
    return false;
  }
}

/**
 * The top-level fields of a request that say something else than its signed
 * `digestInput`: a display built from them would not show what a custodian
 * signs. Enforces, for each of id, credential, operation, requester (the
 * top-level `requester.id`), reason and expiresAt:
 * - it equals its `digestInput` member as canonical JSON (RFC 8785), so the
 *   order of object members does not count, any other difference does;
 * - a member missing from `digestInput`, a `digestInput` that is not an
 *   object, or a value that cannot be canonicalised counts as drift.
 * It does not check the digest: `computeDigest` and `prepareDecision` do.
 *
 * @example
 * const drift = findDigestDrift(request);
 * if (drift.length > 0) refuse(`the request's ${drift.join(', ')} differ from what it signs`);
 */
export function findDigestDrift(request: DigestDriftSubject): DigestDriftField[] {
  const signed = isRecord(request.digestInput) ? request.digestInput : {};
  const shown: Record<DigestDriftField, unknown> = {
    id: request.id,
    credential: request.credential,
    operation: request.operation,
    requester: request.requester.id,
    reason: request.reason,
    expiresAt: request.expiresAt,
  };
  return DIGEST_DRIFT_FIELDS.filter((field) => !sameCanonical(shown[field], Object.hasOwn(signed, field) ? signed[field] : undefined));
}
