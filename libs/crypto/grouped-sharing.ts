import { randomBytes } from 'node:crypto';
import { CryptoError } from './errors.js';
import { combineShares, shareIndex, splitDataKey } from './shamir.js';
import { zeroize } from './zeroize.js';

/** At most 16 groups of at most 32 custodians each (spec §3a, issue 17). */
export const MAX_SHARING_GROUPS = 16;
export const MAX_GROUP_CUSTODIANS = 32;
const KEY_BYTES = 32;

/** One group's shape: `threshold` of its `shares` rebuild its group key. */
export interface GroupShape {
  shares: number;
  threshold: number;
}

/** A share tagged with its group (0-based) and its index inside the group (1..n). */
export interface GroupShare {
  grp: number;
  idx: number;
  share: Buffer;
}

function checkShapes(groups: readonly GroupShape[]): void {
  if (!Array.isArray(groups) || groups.length < 1 || groups.length > MAX_SHARING_GROUPS) {
    throw new TypeError(`groups must list 1..${MAX_SHARING_GROUPS} groups`);
  }
  for (const g of groups) {
    if (!Number.isInteger(g?.shares) || g.shares < 1 || g.shares > (groups.length === 1 ? 255 : MAX_GROUP_CUSTODIANS)) {
      throw new TypeError('each group must have 1..32 shares (1..255 for a single group)');
    }
    if (!Number.isInteger(g.threshold) || g.threshold < 1 || g.threshold > g.shares) {
      throw new TypeError('each group threshold must be an integer in 1..shares');
    }
  }
}

/**
 * Splits a 32-byte data key by a sharing structure (spec §3a). One group: exactly
 * `splitDataKey` (today's format; every share is tagged `grp: 0`). m ≥ 2 groups:
 * G₁…G₍ₘ₋₁₎ random 32-byte keys, Gₘ = D ⊕ G₁ ⊕ … ⊕ G₍ₘ₋₁₎, and each Gⱼ split
 * tⱼ-of-nⱼ; without tⱼ shares of every group, every other group key together says
 * nothing about D. Every group key is zeroed before this returns.
 *
 * @example
 * const shares = splitGroupedDataKey(dataKey, [{ shares: 3, threshold: 2 }, { shares: 1, threshold: 1 }]);
 * // [{grp: 0, idx: 1, share}, {grp: 0, idx: 2, share}, {grp: 0, idx: 3, share}, {grp: 1, idx: 1, share}]
 */
export function splitGroupedDataKey(dataKey: Uint8Array, groups: readonly GroupShape[]): GroupShare[] {
  if (!(dataKey instanceof Uint8Array) || dataKey.byteLength !== KEY_BYTES) throw new TypeError('data key must be 32 bytes');
  checkShapes(groups);
  if (groups.length === 1) {
    const only = groups[0] as GroupShape;
    return splitDataKey(dataKey, only.shares, only.threshold).map((share, i) => ({ grp: 0, idx: i + 1, share }));
  }
  const groupKeys: Buffer[] = [];
  const out: GroupShare[] = [];
  try {
    const last = Buffer.from(dataKey);
    for (let j = 0; j < groups.length - 1; j++) {
      const key = randomBytes(KEY_BYTES);
      groupKeys.push(key);
      for (let b = 0; b < KEY_BYTES; b++) last[b] = (last[b] as number) ^ (key[b] as number);
    }
    groupKeys.push(last);
    groups.forEach((g, grp) => {
      splitDataKey(groupKeys[grp] as Buffer, g.shares, g.threshold).forEach((share, i) => out.push({ grp, idx: i + 1, share }));
    });
    return out;
  } catch (error) {
    zeroize(...out.map((s) => s.share));
    throw error;
  } finally {
    zeroize(...groupKeys);
  }
}

/**
 * Rebuilds the data key from shares that were already checked against their
 * commitments (spec §2 item 6). Enforces: every group of `thresholds` has exactly
 * its threshold of shares, of distinct indexes, and nothing names a group outside
 * it (else SHARES_INSUFFICIENT; `combine` itself would return garbage, not an
 * error, on too few shares); each group key is 32 bytes (else SHARE_INVALID).
 * One group: `combineShares` of its shares. The group keys are zeroed; the caller
 * zeroes the result, and opens the sealed secret with it (the GCM tag proves it right).
 *
 * @example
 * const dataKey = combineGroupedShares([2, 1], [sre1, sre3, security1]);
 * try { secret = await openSealedSecret(sealed, dataKey, meta); } finally { zeroize(dataKey); }
 */
export function combineGroupedShares(thresholds: readonly number[], shares: readonly GroupShare[]): Buffer {
  if (!Array.isArray(thresholds) || thresholds.length < 1 || thresholds.length > MAX_SHARING_GROUPS) {
    throw new CryptoError('SHARES_INSUFFICIENT', 'no sharing groups');
  }
  if (!thresholds.every((t) => Number.isInteger(t) && t >= 1 && t <= 255)) throw new CryptoError('SHARES_INSUFFICIENT', 'a group threshold is not a positive integer');
  if (!Array.isArray(shares)) throw new CryptoError('SHARES_INSUFFICIENT', 'no shares');
  const byGroup: Uint8Array[][] = thresholds.map(() => []);
  for (const s of shares) {
    const bucket = Number.isInteger(s?.grp) ? byGroup[s.grp] : undefined;
    if (bucket === undefined) throw new CryptoError('SHARES_INSUFFICIENT', 'a share names no group of this structure');
    if (shareIndex(s.share) !== s.idx) throw new CryptoError('SHARE_INVALID', 'share index differs from its tag');
    bucket.push(s.share);
  }
  byGroup.forEach((bucket, grp) => {
    if (bucket.length !== thresholds[grp]) {
      throw new CryptoError('SHARES_INSUFFICIENT', `group ${grp} has ${bucket.length} shares, its threshold is ${String(thresholds[grp])}`);
    }
  });
  const groupKeys: Buffer[] = [];
  try {
    for (const bucket of byGroup) {
      const key = combineShares(bucket);
      groupKeys.push(key);
      if (key.byteLength !== KEY_BYTES) throw new CryptoError('SHARE_INVALID', 'a group key is not 32 bytes');
    }
    const dataKey = Buffer.alloc(KEY_BYTES);
    for (const key of groupKeys) for (let b = 0; b < KEY_BYTES; b++) dataKey[b] = (dataKey[b] as number) ^ (key[b] as number);
    return dataKey;
  } finally {
    zeroize(...groupKeys);
  }
}
