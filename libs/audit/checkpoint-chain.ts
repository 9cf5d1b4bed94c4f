import type { JWK } from 'jose';
import { type AuditEntry, GENESIS_HASH, HASH_PATTERN } from './audit-entry.js';
import { AuditError, type AuditErrorCode } from './audit-error.js';
import { type Checkpoint, checkpointLink, claimedCheckpointSeq, type SignedCheckpoint, verifyCheckpoint } from './checkpoint.js';
import { verifyChain } from './verify-chain.js';

/** One entry of the chain as a checkpoint sees it: its seq and hash. */
export interface ChainPoint {
  seq: number;
  hash: string;
}

export interface CheckpointFailure {
  ok: false;
  code: AuditErrorCode;
  /** The seq the failure is about: the first checkpoint (or entry) that does not verify. */
  firstBadSeq: number;
  reason: string;
}

export type CheckpointsVerification =
  | { ok: true; checkpoints: number; newest: SignedCheckpoint | null }
  | (CheckpointFailure & { checkpoints: number; newest: SignedCheckpoint | null });

export interface VerifyCheckpointsOptions {
  /**
   * `checkpoints` starts at a checkpoint the caller already holds (not at the first one ever):
   * the first one's `prev` is not checked, everything after it is.
   */
  partial?: boolean;
  /** A checkpoint JWS saved earlier: today's checkpoints must hold it, byte for byte, at its seq. */
  trusted?: string;
}

/**
 * Verifies the checkpoint chain against the audit chain. Give it every checkpoint JWS in seq
 * order as served, and the {seq, hash} of entries that `verifyChain` already verified (the
 * hashes mean nothing otherwise). Enforces, per checkpoint, stopping at the first failure:
 * - a valid gateway signature, `typ` and payload (`verifyCheckpoint`) → `CHECKPOINT_INVALID`:
 *   a modified checkpoint, or a payload spliced onto another's signature;
 * - seq strictly above the previous checkpoint's → `CHECKPOINT_RESIGNED`: a second (re-signed)
 *   checkpoint for a seq, or checkpoints moved between rows;
 * - `prev` = `checkpointLink` of the previous checkpoint, null for the first →
 *   `CHECKPOINT_GAP`: one was deleted in between, or one of the two was replaced by a
 *   re-signed copy (the link covers the signature, so a copy does not link);
 * - `hash` = the chain's hash at `seq` → `CHECKPOINT_MISMATCH`: the chain was rewritten after
 *   the previous checkpoint and at or before this one, or cut below it;
 * - with `trusted`: the checkpoint at the trusted seq is the trusted JWS itself
 *   (`CHECKPOINT_RESIGNED` otherwise), and there is one (`TRUST_NOT_EXTENDED`: deleted, or the
 *   database rolled back past it).
 * What this cannot see on its own: the newest checkpoints deleted and the chain rewritten after
 * the newest one left. Only a checkpoint remembered elsewhere (`trusted`) catches that.
 *
 * @example
 * const chain = verifyChain(entries);
 * if (chain.ok) await verifyCheckpoints(rows.map((r) => r.jws), entries, jwks); // { ok: true, checkpoints: 12, newest }
 */
export async function verifyCheckpoints(
  checkpoints: readonly string[],
  chain: readonly ChainPoint[],
  jwks: { keys: JWK[] },
  options: VerifyCheckpointsOptions = {},
): Promise<CheckpointsVerification> {
  if (!Array.isArray(checkpoints) || !Array.isArray(chain)) throw new TypeError('verifyCheckpoints: checkpoints and chain must be arrays');
  const hashes = new Map<number, string>();
  const repeated = new Set<number>();
  for (const point of chain) {
    if (typeof point !== 'object' || point === null || !Number.isSafeInteger(point.seq)) {
      throw new TypeError('verifyCheckpoints: the chain must be verified entries ({ seq, hash })');
    }
    if (hashes.has(point.seq)) repeated.add(point.seq);
    hashes.set(point.seq, point.hash);
  }

  let previous: SignedCheckpoint | null = null;
  let verified = 0;
  const fail = (code: AuditErrorCode, firstBadSeq: number, reason: string): CheckpointsVerification => ({
    ok: false,
    code,
    firstBadSeq,
    reason,
    checkpoints: verified,
    newest: previous,
  });

  let trusted: SignedCheckpoint | undefined;
  if (options.trusted !== undefined) {
    try {
      trusted = { ...(await verifyCheckpoint(options.trusted, jwks)), jws: options.trusted };
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      return fail('CHECKPOINT_INVALID', claimedCheckpointSeq(options.trusted) ?? 0, `the trusted checkpoint does not verify: ${error.message}`);
    }
  }
  let trustedSeen = false;

  for (const [index, jws] of checkpoints.entries()) {
    let cp: Checkpoint;
    try {
      cp = await verifyCheckpoint(jws, jwks);
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      const seq = claimedCheckpointSeq(jws) ?? (previous?.seq ?? 0) + 1;
      return fail('CHECKPOINT_INVALID', seq, `the checkpoint at seq ${seq} does not verify (${error.message}): it was modified, or the gateway never signed it`);
    }
    if (previous !== null && cp.seq <= previous.seq) {
      return fail(
        'CHECKPOINT_RESIGNED',
        cp.seq,
        cp.seq === previous.seq
          ? `two checkpoints for seq ${cp.seq}: one of them is a re-signed copy`
          : `the checkpoint for seq ${cp.seq} comes after the one for seq ${previous.seq}: checkpoints were moved or replaced`,
      );
    }
    if (trusted !== undefined && !trustedSeen) {
      if (cp.seq === trusted.seq && jws !== trusted.jws) {
        return fail('CHECKPOINT_RESIGNED', cp.seq, `the checkpoint at seq ${cp.seq} is not the trusted one: it was replaced by a re-signed copy`);
      }
      if (cp.seq > trusted.seq) {
        return fail('TRUST_NOT_EXTENDED', trusted.seq, `the trusted checkpoint at seq ${trusted.seq} is gone (the next one is at seq ${cp.seq}): it was deleted`);
      }
      trustedSeen = cp.seq === trusted.seq;
    }
    const expectedPrev = previous !== null ? checkpointLink(previous.jws) : options.partial === true && index === 0 ? undefined : null;
    if (expectedPrev !== undefined && cp.prev !== expectedPrev) {
      let reason: string;
      if (previous === null) reason = `the first checkpoint (seq ${cp.seq}) chains to an earlier one: earlier checkpoints were deleted`;
      else if (cp.prev === null) reason = `the checkpoint at seq ${cp.seq} claims to be the first one, yet follows seq ${previous.seq}: checkpoints were replaced`;
      else reason = `the checkpoint at seq ${cp.seq} does not chain to the one at seq ${previous.seq}: a checkpoint between them was deleted, or one of them replaced`;
      return fail('CHECKPOINT_GAP', cp.seq, reason);
    }
    const hash = hashes.get(cp.seq);
    if (hash === undefined) return fail('CHECKPOINT_MISMATCH', cp.seq, `no entry with seq ${cp.seq}, which a checkpoint covers: the chain was cut`);
    if (repeated.has(cp.seq)) return fail('CHECKPOINT_MISMATCH', cp.seq, `seq ${cp.seq} appears more than once in the chain`);
    if (hash !== cp.hash) {
      const after = previous !== null ? `after seq ${previous.seq} and ` : '';
      return fail('CHECKPOINT_MISMATCH', cp.seq, `entry ${cp.seq} differs from its signed checkpoint: the chain was rewritten ${after}at or before seq ${cp.seq}`);
    }
    previous = { ...cp, jws };
    verified += 1;
  }

  if (trusted !== undefined && !trustedSeen) {
    return fail(
      'TRUST_NOT_EXTENDED',
      trusted.seq,
      previous === null
        ? `there are no checkpoints, but a trusted one at seq ${trusted.seq}: they were deleted, or the database restored from an older backup`
        : `the newest checkpoint is at seq ${previous.seq}, before the trusted one at seq ${trusted.seq}: checkpoints were deleted, or the database restored from an older backup`,
    );
  }
  return { ok: true, checkpoints: verified, newest: previous };
}

/**
 * Whether today's chain still extends a checkpoint saved earlier (`qg audit verify --trust`):
 * the trusted JWS verifies, today's checkpoints verify against today's (verified) entries as
 * `verifyCheckpoints` does, and one of them, at the trusted seq, is the trusted JWS itself.
 * Then the entries up to the trusted seq are those the trusted checkpoint signed, and every
 * later checkpoint chains back to it.
 *
 * @example
 * await extendsTrusted(readFileSync('trusted.jws', 'ascii').trim(), { checkpoints, entries }, jwks);
 * // { ok: false, code: 'TRUST_NOT_EXTENDED', firstBadSeq: 412, reason: '…' }
 */
export async function extendsTrusted(
  trusted: string,
  chain: { checkpoints: readonly string[]; entries: readonly ChainPoint[] },
  jwks: { keys: JWK[] },
): Promise<CheckpointsVerification> {
  if (typeof trusted !== 'string') throw new TypeError('extendsTrusted: trusted must be a compact JWS');
  return verifyCheckpoints(chain.checkpoints, chain.entries, jwks, { trusted });
}

/** Everything served about the audit log, for a verification from genesis. */
export interface AuditLogState {
  /** Every checkpoint JWS, in seq order. */
  checkpoints: readonly string[];
  /** Every entry from seq 1, in seq order. */
  entries: readonly AuditEntry[];
  /** The stored chain head, read in the same snapshot as the entries (the gateway has it; a client does not). */
  head?: ChainPoint;
  /** A checkpoint saved earlier that today's chain must extend (`extendsTrusted`). */
  trusted?: string;
}

export type AuditLogVerification =
  | { ok: true; entries: number; headHash: string; checkpoints: number; newest: SignedCheckpoint | null }
  | (CheckpointFailure & { entries: number; headHash: string; checkpoints: number; newest: SignedCheckpoint | null });

/**
 * The whole audit log, from genesis: the entries (`verifyChain` → `CHAIN_BROKEN`, naming the
 * first entry that does not recompute or link), the stored head when given (the newest entry,
 * `CHAIN_BROKEN`), then the checkpoint chain against the entries and, when given, the trusted
 * checkpoint (`verifyCheckpoints`). What `GET /api/v1/audit/verify` and `qg audit verify` run.
 *
 * @example
 * await verifyAuditLog({ checkpoints, entries, trusted }, pinnedJwks); // { ok: true, entries: 912, headHash, checkpoints: 14, newest }
 */
export async function verifyAuditLog(state: AuditLogState, jwks: { keys: JWK[] }): Promise<AuditLogVerification> {
  const { checkpoints, entries, head, trusted } = state;
  if (!Array.isArray(checkpoints) || !Array.isArray(entries)) throw new TypeError('verifyAuditLog: checkpoints and entries must be arrays');
  const chain = verifyChain([...entries]);
  const base = { entries: chain.entries, headHash: chain.headHash, checkpoints: 0, newest: null };
  if (!chain.ok) return { ...base, ok: false, code: 'CHAIN_BROKEN', firstBadSeq: chain.firstBadSeq ?? 1, reason: chain.reason ?? 'the chain does not verify' };
  if (head !== undefined) {
    const failure = checkHead(head, entries);
    if (failure !== undefined) return { ...base, ...failure };
  }
  const cps = await verifyCheckpoints(checkpoints, entries, jwks, { trusted });
  return { ...cps, entries: chain.entries, headHash: chain.headHash };
}

/** What a gateway reads, under the checkpoint lock and in one snapshot, before it signs the next checkpoint. */
export interface CheckpointBasis {
  /** Checkpoint JWSs in seq order: from `vouched` on when given, else the newest two (or fewer). */
  checkpoints: readonly string[];
  /** The entries from the seq of `checkpoints[0]` on (from seq 1 when there is none), in seq order. */
  entries: readonly AuditEntry[];
  /** The stored chain head, read in the same snapshot as the entries: it must be the newest one. */
  head: ChainPoint;
  /** The newest checkpoint this gateway signed or verified before: it must still be there, unchanged. */
  vouched?: string;
}

export type CheckpointDecision = { ok: true; previous: SignedCheckpoint | null; next: ChainPoint | null } | CheckpointFailure;

/**
 * Decides whether the gateway may sign a checkpoint of `head` (spec §2 item 13: a checkpoint
 * vouches only for a verified chain). Enforces, and refuses on the first failure:
 * - the checkpoints verify and chain (`verifyCheckpoints`, from `vouched`, which must still be
 *   there byte for byte: this gateway remembers what it vouched for, the database may not);
 * - the entries recompute and link from the oldest of those checkpoints, whose hash they
 *   match, to the newest entry → `CHECKPOINT_MISMATCH` or `CHAIN_BROKEN`;
 * - the stored head is the newest entry → `CHAIN_BROKEN` (a rewritten head would break the
 *   next append; one rolled back would make it collide).
 * `next` is the head to sign, or null when the newest checkpoint already covers it.
 * `previous` is the newest checkpoint: the next one's `prev` is its `checkpointLink`.
 *
 * @example
 * const decision = await verifyBeforeCheckpoint({ checkpoints, entries, head, vouched }, jwks);
 * if (decision.ok && decision.next) jws = await signCheckpoint({ ...decision.next, prev: decision.previous && checkpointLink(decision.previous.jws), at }, key, kid);
 */
export async function verifyBeforeCheckpoint(basis: CheckpointBasis, jwks: { keys: JWK[] }): Promise<CheckpointDecision> {
  const { checkpoints, entries, head, vouched } = basis;
  if (!Array.isArray(checkpoints) || !Array.isArray(entries)) throw new TypeError('verifyBeforeCheckpoint: checkpoints and entries must be arrays');

  const cps = await verifyCheckpoints(checkpoints, entries, jwks, { partial: true, trusted: vouched });
  if (!cps.ok) return { ok: false, code: cps.code, firstBadSeq: cps.firstBadSeq, reason: cps.reason };

  let chain: { ok: boolean; firstBadSeq?: number; reason?: string };
  if (checkpoints.length === 0) {
    chain = verifyChain([...entries]);
  } else {
    // The oldest checkpoint's entry is among the entries with the signed hash (checked above):
    // its own fields must still recompute to it, then the rest links from it.
    const anchorSeq = claimedCheckpointSeq(checkpoints[0]);
    const from = entries.findIndex((e) => e.seq === anchorSeq);
    const anchor = entries[from] as AuditEntry;
    const own =
      typeof anchor.prevHash === 'string' && HASH_PATTERN.test(anchor.prevHash)
        ? verifyChain([anchor], { seq: anchor.seq - 1, hash: anchor.prevHash })
        : { ok: false, firstBadSeq: anchor.seq, reason: `entry at seq ${anchor.seq} is malformed: prevHash is not 64 lower-case hex` };
    chain = own.ok ? verifyChain(entries.slice(from + 1), { seq: anchor.seq, hash: anchor.hash }) : own;
  }
  if (!chain.ok) return { ok: false, code: 'CHAIN_BROKEN', firstBadSeq: chain.firstBadSeq ?? 1, reason: chain.reason ?? 'the chain does not verify' };

  const failure = checkHead(head, entries);
  if (failure !== undefined) return failure;
  const newestSeq = cps.newest?.seq ?? 0;
  return { ok: true, previous: cps.newest, next: head.seq > newestSeq ? { seq: head.seq, hash: head.hash } : null };
}

/** The stored head must be the newest entry (genesis when there is none). */
function checkHead(head: ChainPoint, entries: readonly ChainPoint[]): CheckpointFailure | undefined {
  if (typeof head !== 'object' || head === null || !Number.isSafeInteger(head.seq) || head.seq < 0 || typeof head.hash !== 'string' || !HASH_PATTERN.test(head.hash)) {
    return { ok: false, code: 'CHAIN_BROKEN', firstBadSeq: 1, reason: 'the stored chain head is malformed' };
  }
  const tip: ChainPoint = entries[entries.length - 1] ?? { seq: 0, hash: GENESIS_HASH };
  if (head.seq === tip.seq && head.hash === tip.hash) return undefined;
  if (head.seq === tip.seq) return { ok: false, code: 'CHAIN_BROKEN', firstBadSeq: head.seq, reason: `the stored head's hash is not that of entry ${head.seq}: it was rewritten` };
  return {
    ok: false,
    code: 'CHAIN_BROKEN',
    firstBadSeq: Math.min(head.seq, tip.seq) + 1,
    reason: `the stored head is at seq ${head.seq} but the newest entry is seq ${tip.seq}: one of them was rewritten or rolled back`,
  };
}
