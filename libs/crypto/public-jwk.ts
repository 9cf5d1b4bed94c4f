import { calculateJwkThumbprint, type JWK } from 'jose';
import { fromB64u } from './encoding.js';
import { CryptoError } from './errors.js';

type KeyUse = 'encryption' | 'signing';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;
const ALLOWED_ALG: Record<KeyUse, readonly string[]> = {
  encryption: ['ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW'],
  signing: ['ES256'],
};
const ALLOWED_KEY_OPS: Record<KeyUse, readonly string[]> = {
  encryption: ['encrypt', 'wrapKey', 'deriveKey', 'deriveBits'],
  signing: ['verify'],
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function coordinate(v: unknown): string {
  if (typeof v !== 'string') throw new CryptoError('JWK_INVALID', 'EC coordinate missing');
  let bytes: Buffer;
  try {
    bytes = fromB64u(v);
  } catch {
    throw new CryptoError('JWK_INVALID', 'EC coordinate is not base64url');
  }
  if (bytes.byteLength !== 32) throw new CryptoError('JWK_INVALID', 'EC coordinate is not 32 bytes');
  return v;
}

/**
 * Validates a key a user enrols or the gateway stores. Enforces:
 * - an object with no private member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`, `priv`): JWK_PRIVATE_MEMBER;
 * - `kty` EC, `crv` P-256, `x` and `y` 32-byte base64url, a point on the curve: else JWK_INVALID;
 * - `use`, `alg`, `key_ops`, when present, consistent with `use` (`enc`/ECDH-ES*, `sig`/ES256).
 * Returns only `{kty, crv, x, y}` and its RFC 7638 SHA-256 thumbprint.
 *
 * @example
 * const { jwk, thumbprint } = await parsePublicJwk(body.signingKey, 'signing');
 */
export async function parsePublicJwk(jwk: unknown, use: KeyUse): Promise<{ jwk: JWK; thumbprint: string }> {
  const { jwk: minimal, thumbprint } = await importPublicJwk(jwk, use);
  return { jwk: minimal, thumbprint };
}

/**
 * `parsePublicJwk` with the key imported for its use (ECDSA verify, or ECDH). The
 * import and the thumbprint are kept for the most recent keys: importing a P-256
 * point costs more than the verify it serves, and the same custodians sign
 * decision after decision. Only public values are kept.
 */
export async function importPublicJwk(jwk: unknown, use: KeyUse): Promise<{ jwk: JWK; thumbprint: string; key: CryptoKey }> {
  if (use !== 'encryption' && use !== 'signing') throw new TypeError('use must be encryption or signing');
  if (!isRecord(jwk)) throw new CryptoError('JWK_INVALID', 'JWK must be an object');
  for (const member of PRIVATE_MEMBERS) {
    if (Object.hasOwn(jwk, member)) throw new CryptoError('JWK_PRIVATE_MEMBER', 'JWK contains a private key member');
  }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new CryptoError('JWK_INVALID', 'JWK must be kty EC, crv P-256');
  const x = coordinate(jwk.x);
  const y = coordinate(jwk.y);
  if (jwk.use !== undefined && jwk.use !== (use === 'signing' ? 'sig' : 'enc')) {
    throw new CryptoError('JWK_INVALID', 'JWK "use" does not fit');
  }
  if (jwk.alg !== undefined && !ALLOWED_ALG[use].includes(jwk.alg as string)) {
    throw new CryptoError('JWK_INVALID', 'JWK "alg" does not fit');
  }
  if (jwk.key_ops !== undefined) {
    const ops = jwk.key_ops;
    if (!Array.isArray(ops) || ops.some((op) => !ALLOWED_KEY_OPS[use].includes(op as string))) {
      throw new CryptoError('JWK_INVALID', 'JWK "key_ops" does not fit');
    }
  }
  const minimal: JWK = { kty: 'EC', crv: 'P-256', x, y };
  const cacheKey = `${use}:${x}.${y}`;
  const cached = importedKeys.get(cacheKey);
  if (cached !== undefined) {
    // Most recently used last: the keys evicted first are the ones not seen for longest.
    importedKeys.delete(cacheKey);
    importedKeys.set(cacheKey, cached);
    return { jwk: minimal, ...cached };
  }
  let key: CryptoKey;
  try {
    // WebCrypto rejects points that are not on the curve.
    key = await globalThis.crypto.subtle.importKey(
      'jwk',
      minimal,
      use === 'signing' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'ECDH', namedCurve: 'P-256' },
      true,
      use === 'signing' ? ['verify'] : [],
    );
  } catch {
    throw new CryptoError('JWK_INVALID', 'JWK is not a valid P-256 public key');
  }
  const imported = { thumbprint: await calculateJwkThumbprint(minimal, 'sha256'), key };
  if (importedKeys.size >= IMPORTED_KEYS_KEPT) importedKeys.delete(importedKeys.keys().next().value as string);
  importedKeys.set(cacheKey, imported);
  return { jwk: minimal, ...imported };
}

const IMPORTED_KEYS_KEPT = 1024;
/** Valid public keys already imported, least recently used first (a Map keeps insertion order). */
const importedKeys = new Map<string, { thumbprint: string; key: CryptoKey }>();
