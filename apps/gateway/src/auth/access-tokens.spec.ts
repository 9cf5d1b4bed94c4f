import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { GatewaySigningKey } from '../keys/gateway-signing-key.js';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken, verifyAccessToken } from './access-tokens.js';

async function gatewayKey(): Promise<GatewaySigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: 'ES256', use: 'sig' } };
}

const USER = '2d0b8f1e-5c4a-4f3e-9a7b-0c1d2e3f4a5b';

describe('verifyAccessToken', () => {
  it('accepts a token again while it is valid, and refuses it at its expiry although it verified before', async () => {
    const key = await gatewayKey();
    const now = Math.floor(Date.now() / 1000);
    const token = await issueAccessToken(key, USER, now);
    expect(await verifyAccessToken(key, token, now)).toBe(USER);
    expect(await verifyAccessToken(key, token, now + 10)).toBe(USER);
    expect(await verifyAccessToken(key, token, now + ACCESS_TOKEN_TTL_SECONDS)).toBeUndefined();
  });

  it('never lets a token verified under one gateway key pass under another', async () => {
    const [mine, other] = [await gatewayKey(), await gatewayKey()];
    const token = await issueAccessToken(mine, USER, Math.floor(Date.now() / 1000));
    expect(await verifyAccessToken(mine, token)).toBe(USER);
    expect(await verifyAccessToken(other, token)).toBeUndefined();
  });

  it('refuses any other string, however close to a token that verified', async () => {
    const key = await gatewayKey();
    const token = await issueAccessToken(key, USER, Math.floor(Date.now() / 1000));
    expect(await verifyAccessToken(key, token)).toBe(USER);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    expect(await verifyAccessToken(key, `${header}.${payload}.${flipped}`)).toBeUndefined();
    const otherUser = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'someone-else' })).toString('base64url');
    expect(await verifyAccessToken(key, `${header}.${otherUser}.${signature}`)).toBeUndefined();
    expect(await verifyAccessToken(key, `${token}.`)).toBeUndefined();
  });
});
