import { type AuditEntry, computeEntryHash, GENESIS_HASH, HASH_PATTERN, isTimestamp } from './audit-entry.js';

export interface ChainVerification {
  ok: boolean;
  /** Entries verified before the first bad one (all of them when ok). */
  entries: number;
  /** Hash of the last verified entry; the anchor's, or genesis, when none verified. */
  headHash: string;
  firstBadSeq?: number;
  reason?: string;
}

/**
 * Re-hashes a run of consecutive entries, in the order given (they must already be sorted by
 * seq). Enforces, per entry, and stops at the first failure:
 * - the shape of an entry (integer seq, 64-hex hashes, RFC 3339 `at`, strings, object data);
 * - seq is one more than the previous entry's: a gap means a removed entry, a lower number a
 *   moved or repeated one (firstBadSeq is the seq expected there);
 * - prevHash is the previous entry's hash: genesis for seq 1 without an anchor, else `anchor.hash`;
 * - hash is the hash of the entry's fields: any changed field shows here.
 * `anchor` is the trusted entry just before `entries[0]` (to verify from a known head onwards).
 * An attacker who rewrites the tail and re-hashes it passes this check; only a signed
 * checkpoint (`verifyCheckpoints`) or a remembered one (`extendsTrusted`) catches that, or a removed tail.
 *
 * @example
 * verifyChain(entries); // { ok: true, entries: 50, headHash: '9f…' }
 * verifyChain(later, { seq: 50, hash: '9f…' });
 */
export function verifyChain(entries: AuditEntry[], anchor?: { seq: number; hash: string }): ChainVerification {
  if (!Array.isArray(entries)) throw new TypeError('verifyChain: entries must be an array');
  if (anchor !== undefined && (!Number.isSafeInteger(anchor.seq) || anchor.seq < 0 || !HASH_PATTERN.test(anchor.hash))) {
    throw new TypeError('verifyChain: anchor must be { seq ≥ 0, hash: 64 lower-case hex }');
  }
  let expectedSeq = (anchor?.seq ?? 0) + 1;
  let headHash = anchor?.hash ?? GENESIS_HASH;
  let verified = 0;
  const fail = (firstBadSeq: number, reason: string): ChainVerification => ({
    ok: false,
    entries: verified,
    headHash,
    firstBadSeq,
    reason,
  });

  for (const entry of entries) {
    const malformed = describeMalformed(entry);
    if (malformed !== undefined) return fail(expectedSeq, `entry at seq ${expectedSeq} is malformed: ${malformed}`);
    if (entry.seq > expectedSeq) return fail(expectedSeq, `expected seq ${expectedSeq}, found ${entry.seq}: an entry was removed or moved`);
    if (entry.seq < expectedSeq) return fail(expectedSeq, `expected seq ${expectedSeq}, found ${entry.seq}: an entry was moved or repeated`);
    if (entry.prevHash !== headHash) {
      const expected = expectedSeq === 1 && anchor === undefined ? 'the genesis hash' : `the hash of seq ${expectedSeq - 1}`;
      return fail(entry.seq, `prevHash of seq ${entry.seq} is not ${expected}`);
    }
    let hash: string;
    try {
      hash = computeEntryHash(entry);
    } catch {
      return fail(entry.seq, `data of seq ${entry.seq} is not JSON`);
    }
    if (hash !== entry.hash) return fail(entry.seq, `hash of seq ${entry.seq} does not match its fields`);
    headHash = entry.hash;
    verified += 1;
    expectedSeq += 1;
  }
  return { ok: true, entries: verified, headHash };
}

function describeMalformed(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null) return 'not an object';
  const e = entry as Record<string, unknown>;
  if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq)) return 'seq is not an integer';
  if (!isTimestamp(e.at)) return 'at is not RFC 3339 UTC with milliseconds';
  for (const field of ['actor', 'action', 'subject'] as const) {
    if (typeof e[field] !== 'string') return `${field} is not a string`;
  }
  if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) return 'data is not an object';
  if (typeof e.prevHash !== 'string' || !HASH_PATTERN.test(e.prevHash)) return 'prevHash is not 64 lower-case hex';
  if (typeof e.hash !== 'string' || !HASH_PATTERN.test(e.hash)) return 'hash is not 64 lower-case hex';
  return undefined;
}
