import { createHash } from 'node:crypto';
import { canonicalJson } from './encoding.js';

/** PROTOCOL §5: the fields an approval binds to. */
export interface RequestDigestInput {
  id: string;
  credential: { id: string; version: number };
  /** the policy that admitted the request: its id and the hex SHA-256 of its JCS snapshot */
  policy: { id: string; sha256: string };
  operation: { kind: string; params: Record<string, unknown> };
  requester: string;
  reason: string;
  expiresAt: string;
}

/**
 * Builds exactly the §5 object from `input`, so extra properties of whatever
 * the caller holds (an entity, a DTO) never change the digest.
 */
function toRequestDigestInput(input: RequestDigestInput): RequestDigestInput {
  const { id, credential, policy, operation, requester, reason, expiresAt } = input;
  if (typeof id !== 'string' || id === '') throw new TypeError('digest input: id must be a non-empty string');
  if (typeof credential !== 'object' || credential === null) throw new TypeError('digest input: credential missing');
  if (typeof credential.id !== 'string' || !Number.isSafeInteger(credential.version)) {
    throw new TypeError('digest input: credential must be {id: string, version: integer}');
  }
  if (typeof policy !== 'object' || policy === null || typeof policy.id !== 'string' || typeof policy.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(policy.sha256)) {
    throw new TypeError('digest input: policy must be {id: string, sha256: 64 hex digits}');
  }
  if (typeof operation !== 'object' || operation === null || typeof operation.kind !== 'string') {
    throw new TypeError('digest input: operation.kind must be a string');
  }
  if (typeof operation.params !== 'object' || operation.params === null || Array.isArray(operation.params)) {
    throw new TypeError('digest input: operation.params must be an object');
  }
  if (typeof requester !== 'string' || typeof reason !== 'string' || typeof expiresAt !== 'string') {
    throw new TypeError('digest input: requester, reason and expiresAt must be strings');
  }
  return {
    id,
    credential: { id: credential.id, version: credential.version },
    policy: { id: policy.id, sha256: policy.sha256 },
    operation: { kind: operation.kind, params: operation.params },
    requester,
    reason,
    expiresAt,
  };
}

/**
 * `b64u(SHA-256(JCS(digestInput)))` (PROTOCOL §5).
 *
 * @example
 * const digest = computeRequestDigest({
 *   id: 'req_1', credential: { id: 'cred_1', version: 1 }, policy: { id: 'pol_1', sha256: policySha256 },
 *   operation: { kind: 'http', params: { method: 'GET', path: '/x' } },
 *   requester: 'user_1', reason: 'rotate', expiresAt: '2030-01-01T00:00:00Z',
 * });
 */
export function computeRequestDigest(input: RequestDigestInput): string {
  return createHash('sha256').update(canonicalJson(toRequestDigestInput(input)), 'utf8').digest('base64url');
}
