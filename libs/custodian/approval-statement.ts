import canonicalize from 'canonicalize';
import { CompactSign } from 'jose';
import { utf8 } from './encoding.js';

export interface ApprovalStatementClaims {
  req: string;
  digest: string;
  decision: 'approve' | 'reject';
  sub: string;
  iat: number;
}

/**
 * Signs an approval statement: JWS compact ES256, header
 * `{alg: 'ES256', kid, typ: 'qg-approval+jwt'}`, payload the claims as JCS
 * JSON. Works with a non-extractable ECDSA P-256 `CryptoKey`.
 *
 * @example
 * const statement = await signApprovalStatement(
 *   { req: request.id, digest, decision: 'approve', sub: me.id, iat: nowSeconds },
 *   keys.signing.privateKey, signingThumbprint);
 */
export async function signApprovalStatement(
  claims: ApprovalStatementClaims,
  signingPrivateKey: CryptoKey,
  kid: string,
): Promise<string> {
  const { req, digest, decision, sub, iat } = claims;
  if (typeof req !== 'string' || typeof digest !== 'string' || typeof sub !== 'string') {
    throw new TypeError('req, digest and sub must be strings');
  }
  if (decision !== 'approve' && decision !== 'reject') throw new TypeError('decision must be approve or reject');
  if (!Number.isSafeInteger(iat)) throw new TypeError('iat must be an integer (unix seconds)');
  if (typeof kid !== 'string' || kid === '') throw new TypeError('kid must be a non-empty string');
  const json = canonicalize({ req, digest, decision, sub, iat });
  if (json === undefined) throw new TypeError('claims cannot be serialised');
  const payload = utf8.encode(json);
  return new CompactSign(payload)
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'qg-approval+jwt' })
    .sign(signingPrivateKey);
}
