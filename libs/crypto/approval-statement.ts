import type { JWK } from 'jose';
import { CryptoError } from './errors.js';
import { STATEMENT_MAX_SKEW_SECONDS, statementInvalid as invalid, verifiedStatementPayload } from './signed-statement.js';

const APPROVAL_STATEMENT_TYP = 'qg-approval+jwt';

export interface ApprovalClaims {
  req: string;
  digest: string;
  decision: 'approve' | 'reject';
  sub: string;
  iat: number;
}

const CLAIM_MEMBERS = ['req', 'digest', 'decision', 'sub', 'iat'];

function parseClaims(payload: Uint8Array): Omit<ApprovalClaims, 'decision'> & { decision: string } {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw invalid('statement payload is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('statement payload is not an object');
  const claims = value as Record<string, unknown>;
  const keys = Object.keys(claims);
  if (keys.length !== CLAIM_MEMBERS.length || !CLAIM_MEMBERS.every((k) => Object.hasOwn(claims, k))) {
    throw invalid('statement payload must have exactly req, digest, decision, sub, iat');
  }
  const { req, digest, decision, sub, iat } = claims;
  if (typeof req !== 'string' || typeof digest !== 'string' || typeof decision !== 'string' || typeof sub !== 'string') {
    throw invalid('statement claims have wrong types');
  }
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat)) throw invalid('statement iat must be an integer');
  return { req, digest, decision, sub, iat };
}

/**
 * Verifies a custodian's approval statement (PROTOCOL §3). Enforces, in order:
 * - JWS compact whose protected header is exactly {alg: ES256, kid, typ: qg-approval+jwt}: else STATEMENT_INVALID;
 * - `kid` equals the thumbprint of `signingPublicJwk`: else STATEMENT_KEY_MISMATCH;
 * - the ES256 signature verifies with that key: else STATEMENT_INVALID;
 * - the payload is JSON with exactly {req, digest, decision, sub, iat} of the right types: else STATEMENT_INVALID;
 * - `decision` is approve or reject and req, digest, sub equal `expected`: else STATEMENT_CLAIMS_MISMATCH;
 * - |iat − nowSeconds| ≤ 300: else STATEMENT_STALE.
 *
 * @example
 * const claims = await verifyApprovalStatement(body.statement, user.signingKey,
 *   { req: request.id, digest: request.digest, sub: user.id }, clock.nowSeconds());
 */
export async function verifyApprovalStatement(
  jws: string,
  signingPublicJwk: JWK,
  expected: { req: string; digest: string; sub: string },
  nowSeconds: number,
): Promise<ApprovalClaims> {
  if (!Number.isFinite(nowSeconds)) throw new TypeError('nowSeconds must be a finite number');
  const payload = await verifiedStatementPayload(jws, signingPublicJwk, APPROVAL_STATEMENT_TYP, 'statement');
  const claims = parseClaims(payload);
  if (claims.decision !== 'approve' && claims.decision !== 'reject') {
    throw new CryptoError('STATEMENT_CLAIMS_MISMATCH', 'statement decision must be approve or reject');
  }
  if (claims.req !== expected.req) throw new CryptoError('STATEMENT_CLAIMS_MISMATCH', 'statement is for another request');
  if (claims.digest !== expected.digest) throw new CryptoError('STATEMENT_CLAIMS_MISMATCH', 'statement digest differs');
  if (claims.sub !== expected.sub) throw new CryptoError('STATEMENT_CLAIMS_MISMATCH', 'statement is by another user');
  if (Math.abs(claims.iat - nowSeconds) > STATEMENT_MAX_SKEW_SECONDS) {
    throw new CryptoError('STATEMENT_STALE', 'statement iat is outside ±300 s');
  }
  return { ...claims, decision: claims.decision };
}
