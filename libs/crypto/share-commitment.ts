import { createHash, timingSafeEqual } from 'node:crypto';
import { canonicalJson, toB64u } from './encoding.js';
import { CryptoError } from './errors.js';

interface ShareCommitmentInput {
  cred: string;
  ver: number;
  idx: number;
  /** the 0-based group of a grouped credential (spec §3a); absent for one group, whose format is unchanged */
  grp?: number;
  share: Uint8Array;
}

/**
 * hex SHA-256 of JCS({cred, ver, idx, share: b64u(share)}) — with `grp` too for a
 * grouped credential (spec §3a) —, stored next to the envelope; names the
 * custodian who hands in a bad share.
 *
 * @example
 * const commitment = computeShareCommitment({ cred: 'cred_1', ver: 1, idx: 1, share });
 */
export function computeShareCommitment(c: ShareCommitmentInput): string {
  if (typeof c.cred !== 'string' || !Number.isSafeInteger(c.ver) || !Number.isSafeInteger(c.idx)) {
    throw new TypeError('commitment input must be {cred: string, ver: integer, idx: integer, share}');
  }
  if (c.grp !== undefined && (!Number.isInteger(c.grp) || c.grp < 0)) throw new TypeError('grp must be a non-negative integer when present');
  if (!(c.share instanceof Uint8Array)) throw new TypeError('share must be a Uint8Array');
  const doc = canonicalJson({ cred: c.cred, ver: c.ver, ...(c.grp !== undefined ? { grp: c.grp } : {}), idx: c.idx, share: toB64u(c.share) });
  return createHash('sha256').update(doc, 'utf8').digest('hex');
}

/**
 * Checks a share against its stored commitment in constant time; throws
 * SHARE_COMMITMENT_MISMATCH (also for a malformed commitment).
 *
 * @example
 * verifyShareCommitment({ cred, ver, idx, share }, stored.commitment);
 */
export function verifyShareCommitment(c: ShareCommitmentInput, commitment: string): void {
  const actual = Buffer.from(computeShareCommitment(c), 'utf8');
  const expected = Buffer.from(typeof commitment === 'string' ? commitment : '', 'utf8');
  if (expected.byteLength !== actual.byteLength || !timingSafeEqual(actual, expected)) {
    throw new CryptoError('SHARE_COMMITMENT_MISMATCH', `share ${c.idx} does not match its commitment`);
  }
}
