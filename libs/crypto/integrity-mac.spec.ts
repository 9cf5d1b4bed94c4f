import { createHmac, hkdfSync } from 'node:crypto';
import { CryptoError, deriveMacKey, macHex, verifyMac } from './index.js';

const masterKey = Buffer.alloc(32, 7);
const otherMasterKey = Buffer.alloc(32, 8);

const encryptionKey = { kty: 'EC', crv: 'P-256', x: 'ex', y: 'ey' };
const signingKey = { kty: 'EC', crv: 'P-256', x: 'sx', y: 'sy' };
const enrolled = { userId: '7d3f0a52-0000-4000-8000-000000000001', encryptionKey, signingKey };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    if (e instanceof TypeError) return 'TypeError';
    throw e;
  }
  return 'NO_ERROR';
}

describe('deriveMacKey', () => {
  it('is HKDF-SHA256 of the master key, empty salt, info "quorumgate mac v1", 32 bytes', () => {
    const expected = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'quorumgate mac v1', 32));
    expect(deriveMacKey(masterKey).equals(expected)).toBe(true);
    expect(deriveMacKey(masterKey).equals(masterKey)).toBe(false);
    expect(deriveMacKey(otherMasterKey).equals(expected)).toBe(false);
  });

  it('refuses a master key that is not 32 bytes with MASTER_KEY_INVALID', () => {
    for (const bad of [Buffer.alloc(0), Buffer.alloc(31), Buffer.alloc(33), 'a'.repeat(32), null]) {
      expect(codeOf(() => deriveMacKey(bad as unknown as Uint8Array))).toBe('MASTER_KEY_INVALID');
    }
  });
});

describe('macHex and verifyMac', () => {
  const key = deriveMacKey(masterKey);
  const stored = macHex(key, 'enrolled-keys', enrolled);

  it('is hex HMAC-SHA256 over JCS([purpose, value])', () => {
    const jcs =
      '["enrolled-keys",{"encryptionKey":{"crv":"P-256","kty":"EC","x":"ex","y":"ey"},' +
      '"signingKey":{"crv":"P-256","kty":"EC","x":"sx","y":"sy"},"userId":"7d3f0a52-0000-4000-8000-000000000001"}]';
    expect(stored).toBe(createHmac('sha256', key).update(jcs).digest('hex'));
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
  });

  it('checks the value it was made for, whatever the member order', () => {
    expect(verifyMac(key, 'enrolled-keys', enrolled, stored)).toBe(true);
    const reordered = { signingKey: { y: 'sy', x: 'sx', crv: 'P-256', kty: 'EC' }, userId: enrolled.userId, encryptionKey };
    expect(verifyMac(key, 'enrolled-keys', reordered, stored)).toBe(true);
  });

  // What a database writer without the master key can do to a row, and must not get past the MAC.
  const edits: [string, unknown][] = [
    ['another user', { ...enrolled, userId: '7d3f0a52-0000-4000-8000-000000000002' }],
    ['another encryption key', { ...enrolled, encryptionKey: { ...encryptionKey, x: 'ax' } }],
    ['another signing key', { ...enrolled, signingKey: { ...signingKey, y: 'ay' } }],
    ['the two keys swapped', { ...enrolled, encryptionKey: signingKey, signingKey: encryptionKey }],
    ['a member added to a key', { ...enrolled, signingKey: { ...signingKey, alg: 'ES256' } }],
    ['a member dropped', { userId: enrolled.userId, encryptionKey }],
    ['a key set to null', { ...enrolled, signingKey: null }],
    ['a number for a string', { ...enrolled, userId: 1 }],
  ];
  it.each(edits)('refuses %s', (_name, edited) => {
    expect(verifyMac(key, 'enrolled-keys', edited, stored)).toBe(false);
  });

  it('refuses the MAC under another master key or another purpose', () => {
    expect(verifyMac(deriveMacKey(otherMasterKey), 'enrolled-keys', enrolled, stored)).toBe(false);
    expect(verifyMac(key, 'share-assignment', enrolled, stored)).toBe(false);
    expect(macHex(key, 'share-assignment', enrolled)).not.toBe(stored);
  });

  it('refuses, without throwing, every malformed stored MAC', () => {
    const hostile: unknown[] = [
      null,
      undefined,
      '',
      stored.slice(0, 63),
      `${stored}0`,
      stored.toUpperCase(),
      ` ${stored.slice(1)}`,
      `${stored.slice(0, 62)}zz`,
      Buffer.from(stored, 'hex').toString('base64url'),
      Buffer.from(stored, 'hex'),
      { mac: stored },
      0,
    ];
    for (const bad of hostile) expect(verifyMac(key, 'enrolled-keys', enrolled, bad)).toBe(false);
  });

  it('refuses every single-bit change of the stored MAC', () => {
    const bytes = Buffer.from(stored, 'hex');
    for (let byte = 0; byte < bytes.length; byte++) {
      for (const bit of [0x01, 0x80]) {
        const flipped = Buffer.from(bytes);
        flipped[byte] ^= bit;
        expect(verifyMac(key, 'enrolled-keys', enrolled, flipped.toString('hex'))).toBe(false);
      }
    }
  });

  it('answers false for a value JSON cannot represent, and macHex throws TypeError for it', () => {
    for (const bad of [undefined, NaN, { userId: Infinity }]) {
      expect(verifyMac(key, 'enrolled-keys', bad, stored)).toBe(false);
      expect(codeOf(() => macHex(key, 'enrolled-keys', bad))).toBe('TypeError');
    }
  });

  it('throws TypeError for a bad key or purpose: those are the caller’s bugs, not the data’s', () => {
    const badKeys = [masterKey.subarray(0, 16), Buffer.alloc(33), 'k'.repeat(32)] as unknown as Uint8Array[];
    for (const badKey of badKeys) {
      expect(codeOf(() => macHex(badKey, 'enrolled-keys', enrolled))).toBe('TypeError');
      expect(codeOf(() => verifyMac(badKey, 'enrolled-keys', enrolled, stored))).toBe('TypeError');
    }
    for (const purpose of ['', 'x', 'Enrolled-Keys', 'enrolled keys', 'enrolled-keys-', 'a\u0000b', 'p'.repeat(65), 7]) {
      expect(codeOf(() => macHex(key, purpose as string, enrolled))).toBe('TypeError');
      expect(codeOf(() => verifyMac(key, purpose as string, enrolled, stored))).toBe('TypeError');
    }
  });
});
