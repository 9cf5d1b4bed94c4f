import { jwtVerify, SignJWT, createLocalJWKSet } from 'jose';
import type { GatewaySigningKey } from '../keys/gateway-signing-key.js';

export const ACCESS_TOKEN_TTL_SECONDS = 3600;
const ISSUER = 'quorumgate';
const AUDIENCE = 'quorumgate-api';
const TYPE = 'at+jwt';

/** An ES256 access token naming the user and their session epoch (`sep`); the same token rides in the session cookie. */
export async function issueAccessToken(key: GatewaySigningKey, userId: string, nowSeconds: number, sessionEpoch = 0): Promise<string> {
  return new SignJWT({ sep: sessionEpoch })
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
 * A token that verified is kept until its expiry (the exact string, per gateway key):
 * its signature cannot change, and checking it costs more than the rest of a call's
 * authentication. The expiry is checked at every use.
 */
export async function verifyAccessToken(key: GatewaySigningKey, token: string, nowSeconds = Date.now() / 1000): Promise<string | undefined> {
  return (await verifyAccessTokenClaims(key, token, nowSeconds))?.sub;
}

/** As `verifyAccessToken`, with the time the token was issued (the sign-in, for checks that want a fresh one) and the session epoch it was issued under (`sep`, 0 when absent). */
export async function verifyAccessTokenClaims(key: GatewaySigningKey, token: string, nowSeconds = Date.now() / 1000): Promise<VerifiedToken | undefined> {
  const tokens = verifiedTokensOf(key);
  const kept = tokens.get(token);
  if (kept !== undefined) {
    if (kept.exp > nowSeconds) return kept;
    tokens.delete(token);
    return undefined;
  }
  try {
    const { payload } = await jwtVerify(token, verificationKeys(key), {
      algorithms: ['ES256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: TYPE,
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: new Date(nowSeconds * 1000),
    });
    if (payload.sub === undefined || payload.exp === undefined || payload.iat === undefined) return undefined;
    const sep = payload.sep ?? 0;
    if (typeof sep !== 'number' || !Number.isSafeInteger(sep) || sep < 0) return undefined;
    const verified = { sub: payload.sub, exp: payload.exp, iat: payload.iat, sep };
    if (tokens.size >= VERIFIED_TOKENS_KEPT) tokens.delete(tokens.keys().next().value as string);
    tokens.set(token, verified);
    return verified;
  } catch {
    return undefined;
  }
}

export interface VerifiedToken {
  sub: string;
  exp: number;
  iat: number;
  /** The user's session epoch when the token was issued. */
  sep: number;
}

const VERIFIED_TOKENS_KEPT = 10_000;
const verifiedTokens = new WeakMap<GatewaySigningKey, Map<string, VerifiedToken>>();

function verifiedTokensOf(key: GatewaySigningKey): Map<string, VerifiedToken> {
  let tokens = verifiedTokens.get(key);
  if (tokens === undefined) {
    tokens = new Map();
    verifiedTokens.set(key, tokens);
  }
  return tokens;
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
