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
