import { compactVerify, decodeProtectedHeader, type JWK } from 'jose';
import { CryptoError } from './errors.js';
import { importPublicJwk } from './public-jwk.js';

/** How far a statement's `iat` may be from the verifier's clock. */
export const STATEMENT_MAX_SKEW_SECONDS = 300;

const HEADER_MEMBERS = new Set(['alg', 'kid', 'typ']);

export function statementInvalid(message: string): CryptoError {
  return new CryptoError('STATEMENT_INVALID', message);
}

/**
 * The payload of a custodian's signed statement (approval, check-in), once its envelope
 * checks. Enforces, `label` naming the statement in every message:
 * - a compact JWS whose protected header has only `alg`, `kid`, `typ`: else STATEMENT_INVALID;
 * - `alg` ES256 and `typ` the expected one: else STATEMENT_INVALID;
 * - `kid` the thumbprint of `signingPublicJwk`: else STATEMENT_KEY_MISMATCH;
 * - the ES256 signature verifies with that key: else STATEMENT_INVALID.
 * The claims are the caller's to parse and check.
 */
export async function verifiedStatementPayload(jws: string, signingPublicJwk: JWK, typ: string, label: string): Promise<Uint8Array> {
  const { key, thumbprint } = await importPublicJwk(signingPublicJwk, 'signing');
  if (typeof jws !== 'string' || jws.split('.').length !== 3) throw statementInvalid(`${label} is not a compact JWS`);
  let header;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw statementInvalid(`${label} header is malformed`);
  }
  if (Object.keys(header).some((k) => !HEADER_MEMBERS.has(k))) throw statementInvalid(`${label} header has unexpected members`);
  if (header.alg !== 'ES256') throw statementInvalid(`${label} alg must be ES256`);
  if (header.typ !== typ) throw statementInvalid(`${label} typ must be ${typ}`);
  if (header.kid !== thumbprint) throw new CryptoError('STATEMENT_KEY_MISMATCH', `${label} kid is not the signing key`);
  try {
    return (await compactVerify(jws, key, { algorithms: ['ES256'] })).payload;
  } catch {
    throw statementInvalid(`${label} signature does not verify`);
  }
}
