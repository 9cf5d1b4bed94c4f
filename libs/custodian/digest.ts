import canonicalize from 'canonicalize';
import { CustodianError } from './errors.js';
import { isRecord, toB64u, utf8 } from './encoding.js';

/** PROTOCOL §5, as the gateway sends it in `digestInput`. */
export interface DigestInput {
  id: string;
  credential: { id: string; version: number };
  /** the policy that admitted the request: its id and the hex SHA-256 of its snapshot */
  policy: { id: string; sha256: string };
  operation: { kind: string; params: Record<string, unknown> };
  requester: string;
  reason: string;
  expiresAt: string;
}

function hasExactly(v: Record<string, unknown>, keys: string[]): boolean {
  const own = Object.keys(v);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(v, k));
}

/**
 * Checks that `value` has exactly the §5 shape, so that what the UI shows is
 * all that the digest covers. DIGEST_INPUT_INVALID otherwise.
 *
 * @example
 * const input = parseDigestInput(request.digestInput);
 */
export function parseDigestInput(value: unknown): DigestInput {
  const bad = (why: string) => new CustodianError('DIGEST_INPUT_INVALID', `digestInput ${why}`);
  if (!isRecord(value) || !hasExactly(value, ['id', 'credential', 'policy', 'operation', 'requester', 'reason', 'expiresAt'])) {
    throw bad('must have exactly id, credential, policy, operation, requester, reason, expiresAt');
  }
  const { id, credential, policy, operation, requester, reason, expiresAt } = value;
  if (typeof id !== 'string' || id === '') throw bad('id must be a non-empty string');
  if (!isRecord(credential) || !hasExactly(credential, ['id', 'version'])) throw bad('credential must be {id, version}');
  if (typeof credential.id !== 'string' || !Number.isSafeInteger(credential.version)) throw bad('credential has wrong types');
  if (!isRecord(policy) || !hasExactly(policy, ['id', 'sha256'])) throw bad('policy must be {id, sha256}');
  if (typeof policy.id !== 'string' || typeof policy.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(policy.sha256)) throw bad('policy has wrong types');
  if (!isRecord(operation) || !hasExactly(operation, ['kind', 'params'])) throw bad('operation must be {kind, params}');
  if (typeof operation.kind !== 'string' || !isRecord(operation.params)) throw bad('operation has wrong types');
  if (typeof requester !== 'string' || typeof reason !== 'string' || typeof expiresAt !== 'string') {
    throw bad('requester, reason and expiresAt must be strings');
  }
  return value as unknown as DigestInput;
}

/**
 * `b64u(SHA-256(JCS(digestInput)))`, recomputed on the custodian's device:
 * never trust the `digest` field the gateway sends. Equal to libs/crypto
 * `computeRequestDigest` for the same input.
 *
 * @example
 * if ((await computeDigest(request.digestInput)) !== request.digest) refuse();
 */
export async function computeDigest(digestInput: object): Promise<string> {
  const input = parseDigestInput(digestInput);
  let json: string | undefined;
  try {
    json = canonicalize(input);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw new CustodianError('DIGEST_INPUT_INVALID', 'digestInput cannot be canonicalised');
  const hash = await globalThis.crypto.subtle.digest('SHA-256', utf8.encode(json));
  return toB64u(new Uint8Array(hash));
}
