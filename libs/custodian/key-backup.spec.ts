import { exportPublicJwks, generateCustodianKeys, openOwnShare, CustodianError, decryptBackup, encryptBackup } from './index.js';
import { generateDataKey, sealShareToCustodian, splitDataKey } from '../crypto/index.js';

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof CustodianError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

interface Blob {
  v: number;
  kdf: string;
  iter: number;
  salt: string;
  iv: string;
  ct: string;
}

const parseBlob = (b: string) => JSON.parse(b) as Blob;

describe('encryptBackup / decryptBackup', () => {
  let blob: string;
  const plaintext = JSON.stringify({ note: 'private JWKs', d: 'c2VjcmV0' });

  beforeAll(async () => {
    blob = await encryptBackup(plaintext, 'correct horse battery staple');
  });

  it('round-trips and records PBKDF2-SHA256 with 600000 iterations', async () => {
    const parsed = parseBlob(blob);
    expect(parsed).toMatchObject({ v: 1, kdf: 'PBKDF2-SHA256', iter: 600000 });
    expect(Object.keys(parsed).sort()).toEqual(['ct', 'iter', 'iv', 'kdf', 'salt', 'v']);
    expect(blob).not.toContain('c2VjcmV0');
    expect(await decryptBackup(blob, 'correct horse battery staple')).toBe(plaintext);
  });

  it('uses a fresh salt and iv each time', async () => {
    const again = parseBlob(await encryptBackup(plaintext, 'correct horse battery staple'));
    const first = parseBlob(blob);
    expect(again.salt).not.toBe(first.salt);
    expect(again.iv).not.toBe(first.iv);
  });

  it('refuses a wrong passphrase and tampered or malformed blobs with BACKUP_INVALID', async () => {
    const parsed = parseBlob(blob);
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const cases: [string, string, string][] = [
      ['wrong passphrase', blob, 'Correct horse battery staple'],
      ['ciphertext', JSON.stringify({ ...parsed, ct: flip(parsed.ct) }), 'correct horse battery staple'],
      ['iv', JSON.stringify({ ...parsed, iv: flip(parsed.iv) }), 'correct horse battery staple'],
      ['salt', JSON.stringify({ ...parsed, salt: flip(parsed.salt) }), 'correct horse battery staple'],
      ['iterations lowered', JSON.stringify({ ...parsed, iter: 1000 }), 'correct horse battery staple'],
      ['iterations huge', JSON.stringify({ ...parsed, iter: 1e12 }), 'correct horse battery staple'],
      ['kdf', JSON.stringify({ ...parsed, kdf: 'PBKDF2-SHA1' }), 'correct horse battery staple'],
      ['version', JSON.stringify({ ...parsed, v: 2 }), 'correct horse battery staple'],
      ['short iv', JSON.stringify({ ...parsed, iv: parsed.iv.slice(0, 8) }), 'correct horse battery staple'],
      ['not JSON', 'not json', 'correct horse battery staple'],
      ['null', 'null', 'correct horse battery staple'],
    ];
    for (const [label, b, pass] of cases) {
      expect([label, await codeOf(() => decryptBackup(b, pass))]).toEqual([label, 'BACKUP_INVALID']);
    }
  });

  it('restores extractable private keys as non-extractable ones that still open shares', async () => {
    const keys = await generateCustodianKeys({ extractable: true });
    const privateJwk = await crypto.subtle.exportKey('jwk', keys.encryption.privateKey);
    const backup = await encryptBackup(JSON.stringify(privateJwk), 'pass phrase');

    const restoredJwk = JSON.parse(await decryptBackup(backup, 'pass phrase')) as JsonWebKey;
    const restored = await crypto.subtle.importKey('jwk', restoredJwk, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const share = splitDataKey(generateDataKey(), 2, 2)[1];
    const envelope = await sealShareToCustodian(share, (await exportPublicJwks(keys)).encryptionKey, { cred: 'c', ver: 1, idx: 2 });
    expect(Buffer.from((await openOwnShare(envelope, restored)).share).equals(share)).toBe(true);
  });

  it('throws TypeError for an empty passphrase', async () => {
    await expect(encryptBackup('x', '')).rejects.toThrow(TypeError);
    await expect(decryptBackup(blob, '')).rejects.toThrow(TypeError);
  });
});
