import { createHash, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CompactSign, compactVerify, createLocalJWKSet, type JWK } from 'jose';
import { HASH_PATTERN, isTimestamp } from './audit-entry.js';
import { AuditError } from './audit-error.js';

export const CHECKPOINT_TYP = 'qg-checkpoint+jwt';

/** b64u of a SHA-256 digest: 43 characters. */
const LINK_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const COMPACT_JWS_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The payload of a checkpoint (spec §3). */
export interface Checkpoint {
  /** seq of the newest entry the checkpoint covers. */
  seq: number;
  /** hex hash of that entry: the chain head at `seq`. */
  hash: string;
  /** `checkpointLink` of the checkpoint with the next lower seq; null for the first checkpoint. */
  prev: string | null;
  /** when it was signed, RFC 3339 UTC with milliseconds. */
  at: string;
}

/** A verified checkpoint and the compact JWS that carries it. */
export interface SignedCheckpoint extends Checkpoint {
  jws: string;
}

/**
 * What the next checkpoint puts in `prev`: b64u(SHA-256(ASCII bytes of the compact JWS)).
 * The whole JWS is hashed, signature included, so a re-signed copy of a checkpoint (same
 * payload, another signature) does not link where the original did.
 *
 * @example
 * const next = { seq: 90, hash: head.hash, prev: checkpointLink(previous.jws), at };
 */
export function checkpointLink(jws: string): string {
  if (typeof jws !== 'string' || !COMPACT_JWS_PATTERN.test(jws)) throw new TypeError('checkpointLink: jws must be a compact JWS');
  return createHash('sha256').update(jws, 'ascii').digest('base64url');
}

/**
 * Signs a checkpoint with the gateway key: JWS compact, header
 * `{ alg: 'ES256', kid, typ: 'qg-checkpoint+jwt' }`, payload JCS(`{seq, hash, prev, at}`).
 *
 * @example
 * const jws = await signCheckpoint({ seq: 50, hash: head.hash, prev: checkpointLink(previous), at: clock.now().toISOString() }, key.privateKey, key.kid);
 */
export async function signCheckpoint(cp: Checkpoint, privateKey: CryptoKey | KeyObject, kid: string): Promise<string> {
  const checkpoint = readCheckpoint(cp);
  if (checkpoint === undefined) {
    throw new TypeError('signCheckpoint: checkpoint must be { seq ≥ 1, hash: 64 lower-case hex, prev: null or 43 b64u characters, at: RFC 3339 UTC with ms }');
  }
  if (typeof kid !== 'string' || kid === '') throw new TypeError('signCheckpoint: kid must be a non-empty string');
  const payload = new TextEncoder().encode(canonicalize(checkpoint));
  return new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid, typ: CHECKPOINT_TYP }).sign(privateKey);
}

/**
 * Verifies one checkpoint against the gateway's published keys. Enforces: ES256 only; a `kid`
 * naming a key of `jwks`; `typ` exactly `qg-checkpoint+jwt` (no other signed gateway token
 * passes as a checkpoint); a valid signature; a payload of exactly `{seq, hash, prev, at}` with
 * their formats (the pre-`prev` payload `{seq, headHash, at}` is refused). Any failure throws
 * `AuditError` `CHECKPOINT_INVALID`. Says nothing about the chain or the other checkpoints:
 * `verifyCheckpoints` does.
 *
 * @example
 * const cp = await verifyCheckpoint(jws, await fetchJwks()); // { seq, hash, prev, at }
 */
export async function verifyCheckpoint(jws: string, jwks: { keys: JWK[] }): Promise<Checkpoint> {
  if (typeof jws !== 'string') throw new TypeError('verifyCheckpoint: jws must be a string');
  let keySet: ReturnType<typeof createLocalJWKSet>;
  try {
    keySet = createLocalJWKSet(jwks);
  } catch (cause) {
    throw new TypeError('verifyCheckpoint: jwks must be a JSON Web Key Set', { cause });
  }
  let verified: Awaited<ReturnType<typeof compactVerify>>;
  try {
    verified = await compactVerify(jws, keySet, { algorithms: ['ES256'] });
  } catch (cause) {
    throw new AuditError('CHECKPOINT_INVALID', `checkpoint signature does not verify: ${describe(cause)}`, { cause });
  }
  const { protectedHeader, payload } = verified;
  if (typeof protectedHeader.kid !== 'string' || protectedHeader.kid === '') {
    throw new AuditError('CHECKPOINT_INVALID', 'checkpoint header has no kid');
  }
  if (protectedHeader.typ !== CHECKPOINT_TYP) {
    throw new AuditError('CHECKPOINT_INVALID', `checkpoint header typ is not ${CHECKPOINT_TYP}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (cause) {
    throw new AuditError('CHECKPOINT_INVALID', 'checkpoint payload is not JSON', { cause });
  }
  const checkpoint = readCheckpoint(parsed);
  if (checkpoint === undefined) throw new AuditError('CHECKPOINT_INVALID', 'checkpoint payload is not { seq, hash, prev, at }');
  return checkpoint;
}

/**
 * The seq a checkpoint JWS claims, read WITHOUT verifying anything: only to name a checkpoint
 * in a report when it does not verify. Undefined when there is no readable seq.
 */
export function claimedCheckpointSeq(jws: unknown): number | undefined {
  if (typeof jws !== 'string') return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const seq = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).seq : undefined;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1 ? seq : undefined;
  } catch {
    return undefined;
  }
}

function readCheckpoint(value: unknown): Checkpoint | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const members = Object.keys(value).sort().join(',');
  if (members !== 'at,hash,prev,seq') return undefined;
  const { seq, hash, prev, at } = value as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  if (typeof hash !== 'string' || !HASH_PATTERN.test(hash)) return undefined;
  if (prev !== null && (typeof prev !== 'string' || !LINK_PATTERN.test(prev))) return undefined;
  if (!isTimestamp(at)) return undefined;
  return { seq, hash, prev, at };
}

function describe(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : 'invalid JWS';
}
