import { jwtVerify, SignJWT, createLocalJWKSet } from 'jose';
import type { GatewaySigningKey } from '../keys/gateway-signing-key.js';

export const ACCESS_TOKEN_TTL_SECONDS = 3600;
const ISSUER = 'quorumgate';
const AUDIENCE = 'quorumgate-api';
const TYPE = 'at+jwt';

/** An ES256 access token naming the user; the same token rides in the session cookie. */
export async function issueAccessToken(key: GatewaySigningKey, userId: string, nowSeconds: number): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: TYPE })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(userId)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + ACCESS_TOKEN_TTL_SECONDS)
    .sign(key.privateKey);
}

/**
 * Enforces: signature by the gateway key (ES256 only, so `alg: none` and HMAC
 * confusion are refused), issuer, audience, `typ`, expiry. Returns the user id.
 */
export async function verifyAccessToken(key: GatewaySigningKey, token: string): Promise<string | undefined> {
  try {
    const { payload } = await jwtVerify(token, verificationKeys(key), { algorithms: ['ES256'], issuer: ISSUER, audience: AUDIENCE, typ: TYPE, requiredClaims: ['sub', 'exp'] });
    return payload.sub;
  } catch {
    return undefined;
  }
}

const keySets = new WeakMap<GatewaySigningKey, ReturnType<typeof createLocalJWKSet>>();

/** One imported key set per gateway key: importing a JWK on every request costs more than the verify. */
function verificationKeys(key: GatewaySigningKey): ReturnType<typeof createLocalJWKSet> {
  let set = keySets.get(key);
  if (set === undefined) {
    set = createLocalJWKSet({ keys: [key.publicJwk] });
    keySets.set(key, set);
  }
  return set;
}
