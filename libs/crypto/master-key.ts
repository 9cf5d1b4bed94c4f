import { CryptoError } from './errors.js';
import { openDirect, sealDirect } from './jose-helpers.js';
import { zeroize } from './zeroize.js';

function checkMasterKey(masterKey: Uint8Array): void {
  if (!(masterKey instanceof Uint8Array) || masterKey.byteLength !== 32) {
    throw new CryptoError('MASTER_KEY_INVALID', 'master key must be 32 bytes');
  }
}

function checkPurpose(purpose: string): void {
  if (typeof purpose !== 'string' || purpose === '') throw new TypeError('purpose must be a non-empty string');
}

/**
 * Seals data at rest (request private keys, gateway keys) under the gateway
 * master key: JWE `dir` / `A256GCM`, protected header `purpose` so that a
 * blob sealed for one use cannot be replayed as another.
 *
 * @example
 * const stored = await sealWithMasterKey(privateJwkBytes, masterKey, 'request-key');
 */
export async function sealWithMasterKey(plaintext: Uint8Array, masterKey: Uint8Array, purpose: string): Promise<string> {
  checkMasterKey(masterKey);
  checkPurpose(purpose);
  return sealDirect(plaintext, masterKey, { purpose });
}

/**
 * Opens what {@link sealWithMasterKey} sealed. SEALED_DATA_INVALID on any
 * failure or a different purpose; MASTER_KEY_INVALID if the key is not 32 bytes.
 *
 * @example
 * const bytes = await openWithMasterKey(stored, masterKey, 'request-key');
 */
export async function openWithMasterKey(sealed: string, masterKey: Uint8Array, purpose: string): Promise<Buffer> {
  checkMasterKey(masterKey);
  checkPurpose(purpose);
  const opened = await openDirect(sealed, masterKey);
  if (opened === null) throw new CryptoError('SEALED_DATA_INVALID', 'sealed data did not open');
  if (opened.header.purpose !== purpose) {
    zeroize(opened.plaintext);
    throw new CryptoError('SEALED_DATA_INVALID', 'sealed data has another purpose');
  }
  return opened.plaintext;
}
