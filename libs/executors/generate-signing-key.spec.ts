import { ExecutorError, generateSigningKey, runWithTimeout, executorFor, validateCredentialSecret, type GeneratedSigningAlg } from './index.js';

const verifyAlgorithm = { ES256: { name: 'ECDSA', hash: 'SHA-256' }, EdDSA: { name: 'Ed25519' } } as const;
const curve = { ES256: { kty: 'EC', crv: 'P-256' }, EdDSA: { kty: 'OKP', crv: 'Ed25519' } } as const;

describe.each<GeneratedSigningAlg>(['ES256', 'EdDSA'])('generateSigningKey(%s)', (alg) => {
  it('makes a private JWK that is a valid signing-key secret, publishing its public half and signing with it', async () => {
    const secret = await generateSigningKey(alg);
    const jwk = JSON.parse(secret.toString('utf8'));
    expect(jwk).toMatchObject({ ...curve[alg], d: expect.any(String) });
    const { publicInfo } = await validateCredentialSecret('signing-key', secret, {});
    expect(publicInfo).toMatchObject({ alg, publicJwk: { ...curve[alg], x: jwk.x } });
    expect(publicInfo.publicJwk).not.toHaveProperty('d');
    const payload = Buffer.from('born split');
    const result = await runWithTimeout(executorFor('sign'), { secret, config: {}, params: { payload: payload.toString('base64url'), format: 'raw' } }, 10_000);
    const key = await crypto.subtle.importKey('jwk', publicInfo.publicJwk as JsonWebKey, alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'Ed25519' }, false, ['verify']);
    expect(await crypto.subtle.verify(verifyAlgorithm[alg], key, Buffer.from(String(result.signature), 'base64url'), payload)).toBe(true);
  });

  it('makes a different key each time', async () => {
    const [a, b] = [await generateSigningKey(alg), await generateSigningKey(alg)];
    expect(JSON.parse(a.toString()).d).not.toBe(JSON.parse(b.toString()).d);
  });
});

it('refuses an algorithm it does not generate', async () => {
  await expect(generateSigningKey('RS256' as GeneratedSigningAlg)).rejects.toBeInstanceOf(ExecutorError);
});
