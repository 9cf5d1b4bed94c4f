import { createHash, createHmac, randomBytes } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CryptoError } from './errors.js';

const B64U = /^[A-Za-z0-9_-]*$/;

/**
 * RFC 8785 (JCS) serialisation, the only form of JSON that is hashed or signed.
 *
 * @example
 * canonicalJson({ b: 1, a: 'x' }); // '{"a":"x","b":1}'
 */
export function canonicalJson(value: unknown): string {
  let out: string | undefined;
  try {
    out = canonicalize(value);
  } catch (e) {
    throw new TypeError(`value cannot be canonicalised: ${(e as Error).message}`);
  }
  if (out === undefined) throw new TypeError('value cannot be canonicalised');
  return out;
}

/**
 * base64url without padding.
 *
 * @example
 * toB64u(new Uint8Array([255, 254])); // '__4'
 */
export function toB64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Strict base64url decoding: Node's decoder silently skips invalid characters,
 * so the alphabet, padding and canonical form are checked first.
 *
 * @example
 * fromB64u('__4'); // <Buffer ff fe>
 */
export function fromB64u(s: string): Buffer {
  if (typeof s !== 'string' || !B64U.test(s) || s.length % 4 === 1) {
    throw new CryptoError('ENCODING_INVALID', 'invalid base64url');
  }
  const out = Buffer.from(s, 'base64url');
  if (out.toString('base64url') !== s) throw new CryptoError('ENCODING_INVALID', 'non-canonical base64url');
  return out;
}

/**
 * @example
 * sha256Hex('abc'); // 'ba7816bf...'
 */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A random token (API tokens, ids), base64url.
 *
 * @example
 * const token = randomToken(); // 43 characters
 */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 16) throw new TypeError('randomToken needs at least 16 bytes');
  return randomBytes(bytes).toString('base64url');
}

/**
 * Keyed hash for storing API tokens: a database dump alone cannot be used to
 * check guesses.
 *
 * @example
 * const stored = hmacSha256Hex(serverKey, token);
 */
export function hmacSha256Hex(key: Uint8Array, data: string): string {
  if (key.byteLength < 16) throw new TypeError('HMAC key must be at least 16 bytes');
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}
