import { randomBytes } from 'node:crypto';
import sss from 'shamirs-secret-sharing';
import { CryptoError } from './errors.js';
import { zeroize } from './zeroize.js';

// shamirs-secret-sharing 2.0.1 share bytes: [0x08 (bits per field element,
// GF(2^8)), x (the share id, 1..255), ...y data]. Its combine() parses
// nothing strictly: a malformed share, a duplicate id or too few shares all
// give a wrong secret without an error, hence the checks below and the GCM
// tag on the sealed credential.
const SHARE_BITS_MARKER = 0x08;
const MAX_SHARES = 255;

/**
 * Splits a 32-byte data key (never the credential itself) into `shares`
 * shares, any `threshold` of which reconstruct it. Element i is the share for
 * index i + 1: the library numbers its shares 1..n in output order and encodes
 * that number in byte 1 of each share, which is checked here.
 *
 * @example
 * const shares = splitDataKey(dataKey, 3, 2); // shareIndex(shares[0]) === 1
 */
export function splitDataKey(dataKey: Uint8Array, shares: number, threshold: number): Buffer[] {
  if (!(dataKey instanceof Uint8Array) || dataKey.byteLength !== 32) throw new TypeError('data key must be 32 bytes');
  if (!Number.isInteger(shares) || shares < 1 || shares > MAX_SHARES) {
    throw new TypeError(`shares must be an integer in 1..${MAX_SHARES}`);
  }
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) {
    throw new TypeError('threshold must be an integer in 1..shares');
  }
  const raw = sss.split(dataKey, { shares, threshold, random: (n: number) => randomBytes(n) });
  try {
    return raw.map((share, i) => {
      const copy = Buffer.from(share);
      if (shareIndex(copy) !== i + 1) {
        zeroize(copy);
        throw new Error('shamirs-secret-sharing returned shares out of order');
      }
      return copy;
    });
  } finally {
    zeroize(...raw);
  }
}

/**
 * Reads the index (1..255) a share encodes. SHARE_INVALID when the bytes are
 * not a share of this library.
 *
 * @example
 * shareIndex(splitDataKey(dataKey, 5, 3)[2]); // 3
 */
export function shareIndex(share: Uint8Array): number {
  if (!(share instanceof Uint8Array) || share.byteLength < 3 || share[0] !== SHARE_BITS_MARKER) {
    throw new CryptoError('SHARE_INVALID', 'malformed share');
  }
  const idx = share[1];
  if (idx < 1 || idx > MAX_SHARES) throw new CryptoError('SHARE_INVALID', 'malformed share');
  return idx;
}

/**
 * Reconstructs the data key. Cannot tell a wrong result from a right one (too
 * few shares, a tampered share): open the sealed credential with it, whose GCM
 * tag fails closed, and check commitments first. The caller zeroes the result.
 *
 * @example
 * const dataKey = combineShares([shares[0], shares[2]]);
 * try { secret = await openSealedSecret(sealed, dataKey, meta); } finally { zeroize(dataKey); }
 */
export function combineShares(shares: Uint8Array[]): Buffer {
  if (!Array.isArray(shares) || shares.length === 0) throw new CryptoError('SHARES_INSUFFICIENT', 'no shares');
  const seen = new Set<number>();
  const length = shares[0]?.byteLength;
  for (const share of shares) {
    const idx = shareIndex(share);
    if (share.byteLength !== length) throw new CryptoError('SHARE_INVALID', 'shares differ in length');
    if (seen.has(idx)) throw new CryptoError('SHARES_INSUFFICIENT', 'duplicate share index');
    seen.add(idx);
  }
  const raw = sss.combine(shares);
  try {
    return Buffer.from(raw);
  } finally {
    zeroize(raw);
  }
}
