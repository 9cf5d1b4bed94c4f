import { configDigest, CryptoError, generateDataKey, openSealedSecret, openWithMasterKey, sealSecret, sealWithMasterKey } from './index.js';
import { tamperedSegments } from './hostile-jwe.testing.js';

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

/** Truncated, swapped and tampered variants of a compact JWE. */
function hostileVariants(jwe: string): [string, string][] {
  const parts = jwe.split('.');
  return [
    ['empty', ''],
    ['four segments', parts.slice(0, 4).join('.')],
    ['six segments', `${jwe}.`],
    ['truncated tag', jwe.slice(0, -2)],
    ['truncated ciphertext', [...parts.slice(0, 3), parts[3].slice(0, -4), parts[4]].join('.')],
    ['swapped iv and tag', [parts[0], parts[1], parts[4], parts[3], parts[2]].join('.')],
    ['swapped iv and ciphertext', [parts[0], parts[1], parts[3], parts[2], parts[4]].join('.')],
    ['not base64url', jwe.replace('.', '.!')],
    ['compact JWS shape', parts.slice(0, 3).join('.')],
    ...tamperedSegments(jwe),
  ];
}

function withHeader(jwe: string, patch: Record<string, unknown>): string {
  const [h, ...rest] = jwe.split('.');
  const header = { ...(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as object), ...patch };
  return [Buffer.from(JSON.stringify(header)).toString('base64url'), ...rest].join('.');
}

describe('sealSecret / openSealedSecret', () => {
  const meta = { cred: 'cred_1', ver: 3, kind: 'http-token', config: { baseUrl: 'https://api.example.com', header: 'Authorization' } };
  const secret = Buffer.from('-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n');

  it('round-trips and puts cred, ver, kind and the config digest in the protected header', async () => {
    const dataKey = generateDataKey();
    const sealed = await sealSecret(secret, dataKey, meta);
    const header = JSON.parse(Buffer.from(sealed.split('.')[0], 'base64url').toString('utf8')) as unknown;
    expect(header).toEqual({ alg: 'dir', enc: 'A256GCM', cred: 'cred_1', ver: 3, kind: 'http-token', cfg: configDigest(meta.config) });
    expect(sealed).not.toContain(secret.toString('base64url'));
    const opened = await openSealedSecret(sealed, dataKey, meta);
    expect(Buffer.isBuffer(opened)).toBe(true);
    expect(opened.equals(secret)).toBe(true);
  });

  it('fails SECRET_UNSEAL_FAILED with a wrong data key', async () => {
    const dataKey = generateDataKey();
    const sealed = await sealSecret(secret, dataKey, meta);
    // The right key with its last bit flipped: always one bit off (filling the byte with a value could leave it unchanged).
    const lastBitFlipped = Buffer.from(dataKey);
    lastBitFlipped[31] = lastBitFlipped[31]! ^ 1;
    const wrongKeys = [generateDataKey(), Buffer.alloc(32), lastBitFlipped, dataKey.subarray(0, 16)];
    for (const wrong of wrongKeys) {
      expect(await codeOf(() => openSealedSecret(sealed, wrong, meta))).toBe('SECRET_UNSEAL_FAILED');
    }
  });

  it('fails SECRET_UNSEAL_FAILED on truncated, swapped and tampered JWEs', async () => {
    const dataKey = generateDataKey();
    const sealed = await sealSecret(secret, dataKey, meta);
    const variants = [
      ...hostileVariants(sealed),
      ['header cred edited', withHeader(sealed, { cred: 'cred_2' })],
      ['header alg A128GCM', withHeader(sealed, { enc: 'A128GCM' })],
      ['header zip', withHeader(sealed, { zip: 'DEF' })],
      ['header alg none', withHeader(sealed, { alg: 'none' })],
    ] as [string, string][];
    for (const [label, variant] of variants) {
      expect([label, await codeOf(() => openSealedSecret(variant, dataKey, meta))]).toEqual([label, 'SECRET_UNSEAL_FAILED']);
    }
  });

  it('fails ENVELOPE_HEADER_MISMATCH for another credential or version', async () => {
    const dataKey = generateDataKey();
    const sealed = await sealSecret(secret, dataKey, meta);
    for (const expected of [{ ...meta, cred: 'cred_2' }, { ...meta, ver: 2 }]) {
      expect(await codeOf(() => openSealedSecret(sealed, dataKey, expected))).toBe('ENVELOPE_HEADER_MISMATCH');
    }
  });

  it('throws TypeError on misuse', async () => {
    await expect(sealSecret(secret, Buffer.alloc(16), meta)).rejects.toThrow(TypeError);
    await expect(sealSecret(secret, generateDataKey(), { ...meta, cred: '' })).rejects.toThrow(TypeError);
    await expect(sealSecret(secret, generateDataKey(), { ...meta, ver: 1.5 })).rejects.toThrow(TypeError);
    await expect(sealSecret(secret, generateDataKey(), { ...meta, kind: '' })).rejects.toThrow(TypeError);
    await expect(sealSecret(secret, generateDataKey(), { ...meta, config: null as unknown as Record<string, unknown> })).rejects.toThrow(TypeError);
  });

  it('fails SECRET_BINDING_MISMATCH when the config or kind differs from the sealed ones (spec §2 item 12)', async () => {
    const dataKey = generateDataKey();
    const sealed = await sealSecret(secret, dataKey, meta);
    const changed = [
      { ...meta, config: { ...meta.config, baseUrl: 'https://attacker.example' } },
      { ...meta, config: { baseUrl: 'https://api.example.com' } },
      { ...meta, config: { ...meta.config, scheme: 'Bearer' } },
      { ...meta, kind: 'postgres' },
    ];
    for (const expected of changed) expect(await codeOf(() => openSealedSecret(sealed, dataKey, expected))).toBe('SECRET_BINDING_MISMATCH');
    // Member order is not a change: the digest is over canonical JSON.
    const reordered = { ...meta, config: { header: 'Authorization', baseUrl: 'https://api.example.com' } };
    expect((await openSealedSecret(sealed, dataKey, reordered)).equals(secret)).toBe(true);
  });

  it('fails SECRET_BINDING_MISSING for a secret sealed without kind and config', async () => {
    const { CompactEncrypt } = await import('jose');
    const dataKey = generateDataKey();
    const legacy = await new CompactEncrypt(secret).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cred: 'cred_1', ver: 3 }).encrypt(dataKey);
    expect(await codeOf(() => openSealedSecret(legacy, dataKey, meta))).toBe('SECRET_BINDING_MISSING');
  });
});

describe('sealWithMasterKey / openWithMasterKey', () => {
  const masterKey = generateDataKey();
  const data = Buffer.from('{"kty":"EC","d":"private"}');

  it('round-trips', async () => {
    const sealed = await sealWithMasterKey(data, masterKey, 'request-key');
    expect((await openWithMasterKey(sealed, masterKey, 'request-key')).equals(data)).toBe(true);
  });

  it('refuses a wrong key, another purpose and hostile JWEs with SEALED_DATA_INVALID', async () => {
    const sealed = await sealWithMasterKey(data, masterKey, 'request-key');
    expect(await codeOf(() => openWithMasterKey(sealed, generateDataKey(), 'request-key'))).toBe('SEALED_DATA_INVALID');
    expect(await codeOf(() => openWithMasterKey(sealed, masterKey, 'gateway-signing-key'))).toBe('SEALED_DATA_INVALID');
    for (const [label, variant] of [...hostileVariants(sealed), ['purpose edited', withHeader(sealed, { purpose: 'x' })]]) {
      expect([label, await codeOf(() => openWithMasterKey(variant, masterKey, 'request-key'))]).toEqual([
        label,
        'SEALED_DATA_INVALID',
      ]);
    }
  });

  it('refuses master keys that are not 32 bytes with MASTER_KEY_INVALID', async () => {
    const sealed = await sealWithMasterKey(data, masterKey, 'p');
    for (const bad of [Buffer.alloc(0), Buffer.alloc(16), Buffer.alloc(33)]) {
      expect(await codeOf(() => sealWithMasterKey(data, bad, 'p'))).toBe('MASTER_KEY_INVALID');
      expect(await codeOf(() => openWithMasterKey(sealed, bad, 'p'))).toBe('MASTER_KEY_INVALID');
    }
  });
});
