import { calculateJwkThumbprint, compactVerify, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { executorFor, runWithTimeout, validateCredentialSecret } from './index.js';
import { executorRejection } from './executor-rejection.testing.js';

const sign = executorFor('sign');
const payload = Buffer.from('release v1.2.3 sha256=0f1e2d');
const PAYLOAD = payload.toString('base64url');

async function privateJwk(alg: string, options: { modulusLength?: number } = {}): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return exportJWK(privateKey);
}

function secretOf(jwk: unknown): Buffer {
  return Buffer.from(JSON.stringify(jwk));
}

async function run(jwk: JWK, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  return runWithTimeout(sign, { secret: secretOf(jwk), config: {}, params }, 10_000);
}

const rejectionCode = async (promise: Promise<unknown>) => (await executorRejection(promise)).code;

const verifyAlgorithm: Record<string, AlgorithmIdentifier | EcdsaParams | RsaPssParams> = {
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  EdDSA: { name: 'Ed25519' },
  PS256: { name: 'RSA-PSS', saltLength: 32 },
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
};

describe.each([
  { keyAlg: 'ES256', requested: undefined, expected: 'ES256' },
  { keyAlg: 'EdDSA', requested: undefined, expected: 'EdDSA' },
  { keyAlg: 'PS256', requested: undefined, expected: 'PS256' },
  { keyAlg: 'PS256', requested: 'RS256', expected: 'RS256' },
  { keyAlg: 'PS256', requested: 'PS256', expected: 'PS256' },
])('sign with a $keyAlg key, alg $requested', ({ keyAlg, requested, expected }) => {
  let jwk: JWK;
  let publicJwk: JWK;
  let kid: string;

  beforeAll(async () => {
    jwk = await privateJwk(keyAlg);
    const { publicInfo } = await validateCredentialSecret('signing-key', secretOf(jwk), {});
    publicJwk = publicInfo.publicJwk as JWK;
    kid = await calculateJwkThumbprint(jwk, 'sha256');
  });

  it('publishes the public key without private members', () => {
    expect(publicJwk.kid).toBe(kid);
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(publicJwk).not.toHaveProperty(member);
  });

  it('raw: a signature over the payload bytes that verifies with the public JWK', async () => {
    const result = await run(jwk, { payload: PAYLOAD, format: 'raw', ...(requested ? { alg: requested } : {}) });
    expect(result).toEqual({ alg: expected, kid, signature: expect.any(String) });
    const signature = Buffer.from(result.signature as string, 'base64url');
    if (expected === 'ES256') expect(signature.byteLength).toBe(64);
    const { kid: _kid, ...bare } = publicJwk;
    const key = (await importJWK(bare, expected)) as CryptoKey;
    const ok = await crypto.subtle.verify(verifyAlgorithm[expected]!, key, new Uint8Array(signature), new Uint8Array(payload));
    expect(ok).toBe(true);
    const tampered = new Uint8Array(payload);
    tampered[0] ^= 1;
    expect(await crypto.subtle.verify(verifyAlgorithm[expected]!, key, new Uint8Array(signature), tampered)).toBe(false);
  });

  it('jws: a compact JWS that jose verifies, header {alg, kid}', async () => {
    const result = await run(jwk, { payload: PAYLOAD, format: 'jws', ...(requested ? { alg: requested } : {}) });
    expect(result).toEqual({ alg: expected, kid, jws: expect.any(String) });
    const verified = await compactVerify(result.jws as string, await importJWK(publicJwk, expected), { algorithms: [expected] });
    expect(verified.protectedHeader).toEqual({ alg: expected, kid });
    expect(Buffer.from(verified.payload).equals(payload)).toBe(true);
  });
});

describe('sign refuses', () => {
  let ec: JWK;
  let ed: JWK;
  let rsa: JWK;

  beforeAll(async () => {
    [ec, ed, rsa] = await Promise.all([privateJwk('ES256'), privateJwk('EdDSA'), privateJwk('PS256')]);
  });

  it.each([
    ['an RSA alg for an EC key', () => ec, 'RS256'],
    ['ES256 for an Ed25519 key', () => ed, 'ES256'],
    ['ES256 for an RSA key', () => rsa, 'ES256'],
    ['EdDSA for an RSA key', () => rsa, 'EdDSA'],
  ])('%s with PARAMS_INVALID', async (_name, key, alg) => {
    expect(await rejectionCode(run(key(), { payload: PAYLOAD, format: 'raw', alg }))).toBe('PARAMS_INVALID');
  });

  it('an alg the key itself rules out', async () => {
    const restricted = { ...rsa, alg: 'RS256' };
    expect(await rejectionCode(run(restricted, { payload: PAYLOAD, format: 'raw', alg: 'PS256' }))).toBe('PARAMS_INVALID');
    expect((await run(restricted, { payload: PAYLOAD, format: 'raw' })).alg).toBe('RS256');
  });

  it.each([
    ['not an object', 'AAAA'],
    ['an array', []],
    ['no payload', { format: 'raw' }],
    ['an empty payload', { payload: '', format: 'raw' }],
    ['padded base64', { payload: 'aGk=', format: 'raw' }],
    ['standard base64', { payload: 'a+/k', format: 'raw' }],
    ['non-canonical base64url', { payload: 'aGl', format: 'raw' }],
    ['a payload over 1 MiB', { payload: Buffer.alloc(1024 * 1024 + 1).toString('base64url'), format: 'raw' }],
    ['an unknown format', { payload: PAYLOAD, format: 'pem' }],
    ['an unknown alg', { payload: PAYLOAD, format: 'raw', alg: 'HS256' }],
    ['alg none', { payload: PAYLOAD, format: 'jws', alg: 'none' }],
    ['an unknown member', { payload: PAYLOAD, format: 'raw', kid: 'x' }],
  ])('params with %s (PARAMS_INVALID)', (_name, params) => {
    expect(() => sign.validateParams(params)).toThrow(expect.objectContaining({ code: 'PARAMS_INVALID' }));
  });

  it('accepts a 1 MiB payload and returns params unchanged', () => {
    const big = Buffer.alloc(1024 * 1024, 7).toString('base64url');
    expect(sign.validateParams({ payload: big, format: 'jws', alg: 'ES256' })).toEqual({ payload: big, format: 'jws', alg: 'ES256' });
  });

  it('a config with members (CONFIG_INVALID)', () => {
    expect(sign.validateConfig({})).toEqual({});
    expect(() => sign.validateConfig({ alg: 'ES256' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('an aborted signal before signing (ABORTED)', async () => {
    const controller = new AbortController();
    controller.abort();
    const input = { secret: secretOf(ec), config: {}, params: { payload: PAYLOAD, format: 'raw' }, signal: controller.signal };
    expect(await rejectionCode(sign.execute(input))).toBe('ABORTED');
  });
});

describe('sign format der', () => {
  it('ES256: a DER signature that node and `openssl dgst -sha256 -verify` accept with the PEM public key', async () => {
    const { execFileSync } = await import('node:child_process');
    const { createPublicKey, verify } = await import('node:crypto');
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const jwk = await privateJwk('ES256');
    const result = await run(jwk, { payload: PAYLOAD, format: 'der' });
    const signature = Buffer.from(result.signature as string, 'base64url');
    expect(signature[0]).toBe(0x30);
    expect(signature.byteLength).toBeGreaterThanOrEqual(8);
    expect(signature.byteLength).toBeLessThanOrEqual(72);
    const { d: _d, ...publicJwk } = jwk;
    const publicKey = createPublicKey({ key: publicJwk, format: 'jwk' });
    expect(verify('sha256', payload, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'qg-der-'));
    try {
      writeFileSync(join(dir, 'key.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
      writeFileSync(join(dir, 'payload'), payload);
      writeFileSync(join(dir, 'payload.sig'), signature);
      const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir, 'key.pem'), '-signature', join(dir, 'payload.sig'), join(dir, 'payload')], { encoding: 'utf8' });
      expect(out.trim()).toBe('Verified OK');
      // the same check must fail on other bytes: the test can fail
      writeFileSync(join(dir, 'payload'), Buffer.concat([payload, Buffer.from('!')]));
      expect(() => execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir, 'key.pem'), '-signature', join(dir, 'payload.sig'), join(dir, 'payload')], { stdio: 'pipe' })).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('EdDSA and RSA: der is the one encoding those signatures have, the same bytes as raw would verify', async () => {
    const { createPublicKey, verify, constants } = await import('node:crypto');
    for (const alg of ['EdDSA', 'RS256']) {
      const jwk = await privateJwk(alg === 'RS256' ? 'PS256' : alg);
      const result = await run(jwk, { payload: PAYLOAD, format: 'der', ...(alg === 'RS256' ? { alg } : {}) });
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
      const key = createPublicKey({ key: publicJwk, format: 'jwk' });
      const signature = Buffer.from(result.signature as string, 'base64url');
      expect(verify(alg === 'EdDSA' ? null : 'sha256', payload, alg === 'EdDSA' ? key : { key, padding: constants.RSA_PKCS1_PADDING }, signature)).toBe(true);
    }
  });

  it('refuses an unknown format', async () => {
    expect(await rejectionCode(run(await privateJwk('ES256'), { payload: PAYLOAD, format: 'pem' }))).toBe('PARAMS_INVALID');
  });
});
