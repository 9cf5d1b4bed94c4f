import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './encoding.js';
import { CryptoError } from './errors.js';

const MAC_KEY_INFO = 'quorumgate mac v1';
const PURPOSE = /^[a-z][a-z0-9-]{0,62}[a-z0-9]$/;
const MAC_HEX = /^[0-9a-f]{64}$/;

function checkKey(macKey: Uint8Array): void {
  if (!(macKey instanceof Uint8Array) || macKey.byteLength !== 32) throw new TypeError('MAC key must be the 32 bytes deriveMacKey returns');
}

function checkPurpose(purpose: string): void {
  if (typeof purpose !== 'string' || !PURPOSE.test(purpose)) throw new TypeError('purpose must be 2-64 characters of a-z, 0-9 and dashes, like "enrolled-keys"');
}

function mac(macKey: Uint8Array, document: string): Buffer {
  return createHmac('sha256', macKey).update(document, 'utf8').digest();
}

/** JCS([purpose, value]); `undefined` would serialise as null there, so it is refused. */
function document(purpose: string, value: unknown): string {
  if (value === undefined) throw new TypeError('value cannot be canonicalised: undefined');
  return canonicalJson([purpose, value]);
}

/**
 * The key for MACs over rows a database writer must not change unnoticed
 * (enrolled keys, share assignments): HKDF-SHA256 of the master key, empty
 * salt, info "quorumgate mac v1". MASTER_KEY_INVALID unless 32 bytes.
 *
 * @example
 * const macKey = deriveMacKey(masterKey);
 */
export function deriveMacKey(masterKey: Uint8Array): Buffer {
  if (!(masterKey instanceof Uint8Array) || masterKey.byteLength !== 32) {
    throw new CryptoError('MASTER_KEY_INVALID', 'master key must be 32 bytes');
  }
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), MAC_KEY_INFO, 32));
}

/**
 * hex HMAC-SHA256 over JCS([purpose, value]): the purpose keeps a MAC made for
 * one use from checking for another, JCS makes member order irrelevant.
 * TypeError for a bad key or purpose, or a value JSON cannot represent.
 *
 * @example
 * const stored = macHex(macKey, 'enrolled-keys', { userId, encryptionKey, signingKey });
 */
export function macHex(macKey: Uint8Array, purpose: string, value: unknown): string {
  checkKey(macKey);
  checkPurpose(purpose);
  return mac(macKey, document(purpose, value)).toString('hex');
}

/**
 * Whether `stored` is the MAC of `value` for `purpose`, compared in constant
 * time. False, never an exception, for anything a database may hand back:
 * null, a malformed or upper-case string, or a value JSON cannot represent.
 * TypeError only for a bad key or purpose (the caller's bug).
 *
 * @example
 * if (!verifyMac(macKey, 'enrolled-keys', { userId, encryptionKey, signingKey }, row.keysMac)) failClosed();
 */
export function verifyMac(macKey: Uint8Array, purpose: string, value: unknown, stored: unknown): boolean {
  checkKey(macKey);
  checkPurpose(purpose);
  if (typeof stored !== 'string' || !MAC_HEX.test(stored)) return false;
  let signed: string;
  try {
    signed = document(purpose, value);
  } catch {
    return false;
  }
  return timingSafeEqual(mac(macKey, signed), Buffer.from(stored, 'hex'));
}
