import type { JWK } from 'jose';
import { CryptoError } from './errors.js';
import { STATEMENT_MAX_SKEW_SECONDS, statementInvalid as invalid, verifiedStatementPayload } from './signed-statement.js';

const CHECK_IN_TYP = 'qg-checkin+jwt';

/** The payload of a check-in statement (spec §3): `grp` only for grouped credentials (§3a). */
export interface CheckInClaims {
  cred: string;
  ver: number;
  idx: number;
  grp?: number;
  commitment: string;
  nonce: string;
  sub: string;
  iat: number;
}

const REQUIRED = ['cred', 'ver', 'idx', 'commitment', 'nonce', 'sub', 'iat'];

function parseClaims(payload: Uint8Array): CheckInClaims {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw invalid('check-in payload is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('check-in payload is not an object');
  const claims = value as Record<string, unknown>;
  const keys = Object.keys(claims);
  const expected = Object.hasOwn(claims, 'grp') ? [...REQUIRED, 'grp'] : REQUIRED;
  if (keys.length !== expected.length || !expected.every((k) => Object.hasOwn(claims, k))) {
    throw invalid('check-in payload must have exactly cred, ver, idx, grp (grouped credentials only), commitment, nonce, sub, iat');
  }
  const { cred, ver, idx, grp, commitment, nonce, sub, iat } = claims;
  if (typeof cred !== 'string' || typeof commitment !== 'string' || typeof nonce !== 'string' || typeof sub !== 'string') {
    throw invalid('check-in claims have wrong types');
  }
  for (const [name, n] of [['ver', ver], ['idx', idx], ['iat', iat], ...(grp !== undefined ? [['grp', grp]] : [])] as const) {
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw invalid(`check-in ${name} must be an integer`);
  }
  return { cred, ver: ver as number, idx: idx as number, ...(grp !== undefined ? { grp: grp as number } : {}), commitment, nonce, sub, iat: iat as number };
}

/**
 * Verifies a custodian's check-in statement (spec §3, §4a). Enforces, in order:
 * - JWS compact whose protected header is exactly {alg: ES256, kid, typ: qg-checkin+jwt}: else STATEMENT_INVALID;
 * - `kid` equals the thumbprint of `signingPublicJwk`: else STATEMENT_KEY_MISMATCH;
 * - the ES256 signature verifies with that key: else STATEMENT_INVALID;
 * - the payload is JSON with exactly {cred, ver, idx, grp?, commitment, nonce, sub, iat} of the right types: else STATEMENT_INVALID;
 * - `sub` and `cred` equal `expected`: else STATEMENT_CLAIMS_MISMATCH;
 * - |iat − nowSeconds| ≤ 300: else STATEMENT_STALE.
 * What the claims say (version, index, commitment, nonce) the caller checks against what it stored.
 *
 * @example
 * const claims = await verifyCheckInStatement(body.statement, user.signingKey, { sub: user.id, cred: credential.id }, nowSeconds);
 */
export async function verifyCheckInStatement(
  jws: string,
  signingPublicJwk: JWK,
  expected: { sub: string; cred: string },
  nowSeconds: number,
): Promise<CheckInClaims> {
  if (!Number.isFinite(nowSeconds)) throw new TypeError('nowSeconds must be a finite number');
  const payload = await verifiedStatementPayload(jws, signingPublicJwk, CHECK_IN_TYP, 'check-in statement');
  const claims = parseClaims(payload);
  if (claims.sub !== expected.sub) throw new CryptoError('STATEMENT_CLAIMS_MISMATCH', 'check-in statement is by another user');
  if (claims.cred !== expected.cred) throw new CryptoError('STATEMENT_CLAIMS_MISMATCH', 'check-in statement is for another credential');
  if (Math.abs(claims.iat - nowSeconds) > STATEMENT_MAX_SKEW_SECONDS) throw new CryptoError('STATEMENT_STALE', 'check-in statement iat is outside ±300 s');
  return claims;
}
