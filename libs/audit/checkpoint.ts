import type { KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CompactSign, compactVerify, createLocalJWKSet, type JWK } from 'jose';
import { type AuditEntry, HASH_PATTERN, isTimestamp } from './audit-entry.js';
import { AuditError } from './audit-error.js';

export const CHECKPOINT_TYP = 'qg-checkpoint+jwt';

export interface Checkpoint {
  /** seq of the newest entry the checkpoint covers. */
  seq: number;
  /** hash of that entry. */
  headHash: string;
  /** when it was signed, RFC 3339 UTC with milliseconds. */
  at: string;
}

/**
 * Signs a checkpoint of the chain head with the gateway key: JWS compact, header
 * `{ alg: 'ES256', kid, typ: 'qg-checkpoint+jwt' }`, payload JCS(`{seq, headHash, at}`).
 *
 * @example
 * const jws = await signCheckpoint({ seq: 50, headHash: head.hash, at: clock.now().toISOString() }, key.privateKey, key.kid);
 */
export async function signCheckpoint(cp: Checkpoint, privateKey: CryptoKey | KeyObject, kid: string): Promise<string> {
  const checkpoint = readCheckpoint(cp);
  if (checkpoint === undefined) {
    throw new TypeError('signCheckpoint: checkpoint must be { seq ≥ 1, headHash: 64 lower-case hex, at: RFC 3339 UTC with ms }');
  }
  if (typeof kid !== 'string' || kid === '') throw new TypeError('signCheckpoint: kid must be a non-empty string');
  const payload = new TextEncoder().encode(canonicalize(checkpoint));
  return new CompactSign(payload).setProtectedHeader({ alg: 'ES256', kid, typ: CHECKPOINT_TYP }).sign(privateKey);
}

/**
 * Verifies a checkpoint against the gateway's published keys. Enforces: ES256 only; a `kid`
 * naming a key of `jwks`; `typ` exactly `qg-checkpoint+jwt` (no other signed gateway token
 * passes as a checkpoint); a valid signature; a payload of the checkpoint's shape. Any failure
 * throws `AuditError` `CHECKPOINT_INVALID`. Returns only the three checkpoint fields.
 *
 * @example
 * const cp = await verifyCheckpoint(row.jws, await fetchJwks()); // { seq, headHash, at }
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
  if (checkpoint === undefined) throw new AuditError('CHECKPOINT_INVALID', 'checkpoint payload is not { seq, headHash, at }');
  return checkpoint;
}

/**
 * Whether every checkpoint names an entry of `entries` whose hash is its `headHash`. Give it
 * checkpoints returned by `verifyCheckpoint`, never unverified rows: whoever can rewrite the
 * chain can rewrite those too. A checkpoint beyond the entries fails (a cut tail); a
 * mismatch means the chain was rewritten at or before that seq. Reports the lowest bad seq.
 *
 * @example
 * const cps = await Promise.all(rows.map((r) => verifyCheckpoint(r.jws, jwks)));
 * checkCheckpointsAgainstChain(cps, entries); // { ok: true }
 */
export function checkCheckpointsAgainstChain(
  checkpoints: readonly Checkpoint[],
  entries: readonly AuditEntry[],
): { ok: boolean; firstBadSeq?: number; reason?: string } {
  if (!Array.isArray(checkpoints) || !Array.isArray(entries)) {
    throw new TypeError('checkCheckpointsAgainstChain: checkpoints and entries must be arrays');
  }
  const hashBySeq = new Map<number, string>();
  const repeated = new Set<number>();
  for (const entry of entries) {
    if (hashBySeq.has(entry.seq)) repeated.add(entry.seq);
    hashBySeq.set(entry.seq, entry.hash);
  }
  const ordered = [...checkpoints].sort((a, b) => a.seq - b.seq);
  for (const cp of ordered) {
    if (!Number.isSafeInteger(cp.seq) || cp.seq < 1) {
      throw new TypeError('checkCheckpointsAgainstChain: a checkpoint seq is not an integer ≥ 1');
    }
    const hash = hashBySeq.get(cp.seq);
    if (hash === undefined) {
      return { ok: false, firstBadSeq: cp.seq, reason: `no entry with seq ${cp.seq}, which a checkpoint covers: the chain was cut` };
    }
    if (repeated.has(cp.seq)) {
      return { ok: false, firstBadSeq: cp.seq, reason: `seq ${cp.seq} appears more than once` };
    }
    if (hash !== cp.headHash) {
      return { ok: false, firstBadSeq: cp.seq, reason: `entry ${cp.seq} differs from its signed checkpoint: the chain was rewritten at or before it` };
    }
  }
  return { ok: true };
}

function readCheckpoint(value: unknown): Checkpoint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { seq, headHash, at } = value as Record<string, unknown>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  if (typeof headHash !== 'string' || !HASH_PATTERN.test(headHash)) return undefined;
  if (!isTimestamp(at)) return undefined;
  return { seq, headHash, at };
}

function describe(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : 'invalid JWS';
}
