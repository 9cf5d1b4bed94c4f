import { createHash } from 'node:crypto';
import { CryptoError, computeShareCommitment, generateDataKey, splitDataKey, verifyShareCommitment } from './index.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

describe('share commitments', () => {
  const shares = splitDataKey(generateDataKey(), 3, 2);
  const c = { cred: 'cred_1', ver: 1, idx: 2, share: shares[1] };
  const commitment = computeShareCommitment(c);

  it('is hex SHA-256 of JCS({cred, ver, idx, share: b64u(share)})', () => {
    const jcs = `{"cred":"cred_1","idx":2,"share":"${shares[1].toString('base64url')}","ver":1}`;
    expect(commitment).toBe(createHash('sha256').update(jcs).digest('hex'));
    expect(commitment).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies the right share', () => {
    expect(() => verifyShareCommitment(c, commitment)).not.toThrow();
  });

  it('names a flipped bit anywhere in the share', () => {
    for (let byte = 0; byte < c.share.length; byte++) {
      for (const bit of [0x01, 0x80]) {
        const share = Buffer.from(c.share);
        share[byte] ^= bit;
        expect(codeOf(() => verifyShareCommitment({ ...c, share }, commitment))).toBe('SHARE_COMMITMENT_MISMATCH');
      }
    }
  });

  it('refuses a share from another index, credential or version', () => {
    const cases = [
      { ...c, share: shares[0] },
      { ...c, idx: 1, share: shares[0] },
      { ...c, idx: 3 },
      { ...c, cred: 'cred_2' },
      { ...c, ver: 2 },
      { ...c, share: c.share.subarray(0, c.share.length - 1) },
    ];
    for (const other of cases) expect(codeOf(() => verifyShareCommitment(other, commitment))).toBe('SHARE_COMMITMENT_MISMATCH');
  });

  it('treats a malformed stored commitment as a mismatch', () => {
    for (const bad of ['', commitment.slice(0, 63), commitment.toUpperCase(), `${commitment}0`, null as unknown as string]) {
      expect(codeOf(() => verifyShareCommitment(c, bad))).toBe('SHARE_COMMITMENT_MISMATCH');
    }
  });
});
