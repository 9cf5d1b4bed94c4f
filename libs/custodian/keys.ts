import { calculateJwkThumbprint, type JWK } from 'jose';
import { fromB64u, isRecord } from './encoding.js';

const EC_P256 = { namedCurve: 'P-256' } as const;

export interface CustodianKeys {
  encryption: CryptoKeyPair;
  signing: CryptoKeyPair;
}

export interface CustodianPublicJwks {
  encryptionKey: JWK;
  signingKey: JWK;
  encryptionThumbprint: string;
  signingThumbprint: string;
}

/**
 * Generates the custodian's two P-256 key pairs: ECDH (`deriveBits`) for share
 * envelopes and ECDSA for approval statements. Private keys are
 * non-extractable unless `extractable` is set (CLI key files, backups);
 * public keys are always exportable.
 *
 * @example
 * const keys = await generateCustodianKeys();
 * await api.putMyKeys(await exportPublicJwks(keys));
 */
export async function generateCustodianKeys(options: { extractable?: boolean } = {}): Promise<CustodianKeys> {
  const extractable = options.extractable ?? false;
  const subtle = globalThis.crypto.subtle;
  const [encryption, signing] = await Promise.all([
    subtle.generateKey({ name: 'ECDH', ...EC_P256 }, extractable, ['deriveBits']),
    subtle.generateKey({ name: 'ECDSA', ...EC_P256 }, extractable, ['sign', 'verify']),
  ]);
  return { encryption, signing };
}

async function exportPublic(key: CryptoKey): Promise<{ jwk: JWK; thumbprint: string }> {
  const { kty, crv, x, y } = await globalThis.crypto.subtle.exportKey('jwk', key);
  const jwk: JWK = { kty: kty, crv, x, y };
  return { jwk, thumbprint: await calculateJwkThumbprint(jwk, 'sha256') };
}

/**
 * The public halves as minimal JWKs `{kty, crv, x, y}` with their RFC 7638
 * thumbprints: the body of `PUT /api/v1/me/keys` and the `kid` for statements.
 *
 * @example
 * const { encryptionKey, signingKey, signingThumbprint } = await exportPublicJwks(keys);
 */
export async function exportPublicJwks(keys: CustodianKeys): Promise<CustodianPublicJwks> {
  const [enc, sig] = await Promise.all([exportPublic(keys.encryption.publicKey), exportPublic(keys.signing.publicKey)]);
  return {
    encryptionKey: enc.jwk,
    signingKey: sig.jwk,
    encryptionThumbprint: enc.thumbprint,
    signingThumbprint: sig.thumbprint,
  };
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

/**
 * Validates a P-256 ECDH public JWK received from the gateway (the request
 * key): no private member, 32-byte coordinates, on the curve, `kid` (if any)
 * equal to its thumbprint. Returns null when any check fails.
 */
export async function importEcdhPublicJwk(
  value: unknown,
): Promise<{ key: CryptoKey; thumbprint: string } | null> {
  if (!isRecord(value) || PRIVATE_MEMBERS.some((m) => Object.hasOwn(value, m))) return null;
  if (value.kty !== 'EC' || value.crv !== 'P-256') return null;
  if (fromB64u(value.x)?.byteLength !== 32 || fromB64u(value.y)?.byteLength !== 32) return null;
  if (value.use !== undefined && value.use !== 'enc') return null;
  const jwk: JWK = { kty: 'EC', crv: 'P-256', x: value.x as string, y: value.y as string };
  try {
    const key = await globalThis.crypto.subtle.importKey('jwk', jwk, { name: 'ECDH', ...EC_P256 }, true, []);
    const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
    if (value.kid !== undefined && value.kid !== thumbprint) return null;
    return { key, thumbprint };
  } catch {
    return null;
  }
}
