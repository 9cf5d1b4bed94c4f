import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { CryptoError, parsePublicJwk } from './index.js';
import { importPublicJwk } from './public-jwk.js';

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

async function jwkPair(alg: string, crv?: string): Promise<{ pub: JWK; priv: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { crv, extractable: true });
  return { pub: await exportJWK(publicKey), priv: await exportJWK(privateKey) };
}

describe('parsePublicJwk', () => {
  it('accepts a P-256 public key, strips other members and returns its RFC 7638 thumbprint', async () => {
    const { pub } = await jwkPair('ES256');
    const { jwk, thumbprint } = await parsePublicJwk({ ...pub, kid: 'mine', use: 'sig', alg: 'ES256', x5c: ['x'] }, 'signing');
    expect(jwk).toEqual({ kty: 'EC', crv: 'P-256', x: pub.x, y: pub.y });
    expect(thumbprint).toBe(await calculateJwkThumbprint(pub, 'sha256'));
    expect(thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('accepts what WebCrypto exports (key_ops, ext) for both uses', async () => {
    const ecdh = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const ecdsa = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    await expect(parsePublicJwk(await crypto.subtle.exportKey('jwk', ecdh.publicKey), 'encryption')).resolves.toBeDefined();
    await expect(parsePublicJwk(await crypto.subtle.exportKey('jwk', ecdsa.publicKey), 'signing')).resolves.toBeDefined();
  });

  it('refuses private members with JWK_PRIVATE_MEMBER', async () => {
    const { pub, priv } = await jwkPair('ECDH-ES+A256KW', 'P-256');
    const cases: unknown[] = [
      priv,
      { ...pub, d: '' },
      { ...pub, d: null },
      { ...pub, p: 'x' },
      { ...pub, priv: 'x' },
      { kty: 'oct', k: 'AAAA' },
      (await jwkPair('RS256')).priv,
    ];
    for (const jwk of cases) {
      for (const use of ['encryption', 'signing'] as const) {
        expect(await codeOf(() => parsePublicJwk(jwk, use))).toBe('JWK_PRIVATE_MEMBER');
      }
    }
  });

  it('refuses everything that is not a P-256 public key with JWK_INVALID', async () => {
    const { pub } = await jwkPair('ES256');
    const offCurve = { ...pub, y: pub.x };
    const cases: [string, unknown][] = [
      ['P-384', (await jwkPair('ES384')).pub],
      ['P-521', (await jwkPair('ES512')).pub],
      ['Ed25519', (await jwkPair('Ed25519')).pub],
      ['X25519', (await jwkPair('ECDH-ES', 'X25519')).pub],
      ['RSA', (await jwkPair('RS256')).pub],
      ['secp256k1 label', { ...pub, crv: 'secp256k1' }],
      ['no kty', { crv: 'P-256', x: pub.x, y: pub.y }],
      ['no y', { kty: 'EC', crv: 'P-256', x: pub.x }],
      ['short x', { ...pub, x: pub.x!.slice(0, 40) }],
      ['padded x', { ...pub, x: `${pub.x}=` }],
      ['base64 x', { ...pub, x: pub.x!.replace(/-/g, '+').replace(/_/g, '/') + 'A' }],
      ['numeric x', { ...pub, x: 1 }],
      ['off curve', offCurve],
      ['null', null],
      ['string', JSON.stringify(pub)],
      ['array', [pub]],
    ];
    for (const [label, jwk] of cases) {
      expect([label, await codeOf(() => parsePublicJwk(jwk, 'signing'))]).toEqual([label, 'JWK_INVALID']);
    }
  });

  it('refuses use, alg or key_ops that contradict the intended use', async () => {
    const { pub } = await jwkPair('ES256');
    const cases: [unknown, 'encryption' | 'signing'][] = [
      [{ ...pub, use: 'sig' }, 'encryption'],
      [{ ...pub, use: 'enc' }, 'signing'],
      [{ ...pub, alg: 'ES256' }, 'encryption'],
      [{ ...pub, alg: 'ECDH-ES+A256KW' }, 'signing'],
      [{ ...pub, alg: 'HS256' }, 'signing'],
      [{ ...pub, key_ops: ['sign'] }, 'signing'],
      [{ ...pub, key_ops: ['verify'] }, 'encryption'],
      [{ ...pub, key_ops: 'verify' }, 'signing'],
    ];
    for (const [jwk, use] of cases) expect(await codeOf(() => parsePublicJwk(jwk, use))).toBe('JWK_INVALID');
  });

  it('checks every call in full even when the key was imported before: the kept import never admits a refused variant', async () => {
    const { pub, priv } = await jwkPair('ES256');
    await parsePublicJwk(pub, 'signing');
    expect(await codeOf(() => parsePublicJwk(priv, 'signing'))).toBe('JWK_PRIVATE_MEMBER');
    expect(await codeOf(() => parsePublicJwk({ ...pub, use: 'enc' }, 'signing'))).toBe('JWK_INVALID');
    expect(await codeOf(() => parsePublicJwk({ ...pub, crv: 'P-384' }, 'signing'))).toBe('JWK_INVALID');
    // The same point for the other use is imported for that use.
    const forEncryption = await importPublicJwk(pub, 'encryption');
    expect(forEncryption.key.algorithm.name).toBe('ECDH');
    expect((await importPublicJwk(pub, 'signing')).key.algorithm.name).toBe('ECDSA');
  });

  it('keeps the import of a key it has seen, and the kept key verifies', async () => {
    const { publicKey, privateKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const pub = await crypto.subtle.exportKey('jwk', publicKey);
    const first = await importPublicJwk(pub, 'signing');
    const again = await importPublicJwk({ ...pub }, 'signing');
    expect(again.key).toBe(first.key);
    expect(again.thumbprint).toBe(first.thumbprint);
    const data = Buffer.from('statement');
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, data);
    expect(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, again.key, signature, data)).toBe(true);
  });
});
