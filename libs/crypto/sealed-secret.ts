import { randomBytes } from 'node:crypto';
import { CryptoError } from './errors.js';
import { openDirect, sealDirect } from './jose-helpers.js';
import { zeroize } from './zeroize.js';

interface SealedSecretMeta {
  cred: string;
  ver: number;
}

const DATA_KEY_BYTES = 32;

function checkDataKey(dataKey: Uint8Array): void {
  if (!(dataKey instanceof Uint8Array) || dataKey.byteLength !== DATA_KEY_BYTES) {
    throw new TypeError('data key must be 32 bytes');
  }
}

function checkMeta(meta: SealedSecretMeta): void {
  if (typeof meta?.cred !== 'string' || meta.cred === '' || !Number.isSafeInteger(meta.ver)) {
    throw new TypeError('meta must be {cred: non-empty string, ver: integer}');
  }
}

/**
 * A fresh 32-byte data key for one credential version.
 *
 * @example
 * const dataKey = generateDataKey();
 */
export function generateDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

/**
 * Seals a credential under its data key: JWE compact `dir` / `A256GCM`, with
 * `cred` and `ver` in the (authenticated) protected header.
 *
 * @example
 * const sealed = await sealSecret(secret, dataKey, { cred: 'cred_1', ver: 1 });
 */
export async function sealSecret(secret: Uint8Array, dataKey: Uint8Array, meta: SealedSecretMeta): Promise<string> {
  checkDataKey(dataKey);
  checkMeta(meta);
  return sealDirect(secret, dataKey, { cred: meta.cred, ver: meta.ver });
}

/**
 * Opens a sealed credential. A wrong data key (for instance one combined from
 * a bad share) fails on the GCM tag: SECRET_UNSEAL_FAILED, never a wrong
 * secret. ENVELOPE_HEADER_MISMATCH when it opens but belongs to another
 * credential or version. The caller zeroes the returned buffer.
 *
 * @example
 * const secret = await openSealedSecret(sealed, dataKey, { cred: 'cred_1', ver: 1 });
 * try { await run(secret); } finally { zeroize(secret); }
 */
export async function openSealedSecret(sealed: string, dataKey: Uint8Array, expected: SealedSecretMeta): Promise<Buffer> {
  checkMeta(expected);
  if (!(dataKey instanceof Uint8Array) || dataKey.byteLength !== DATA_KEY_BYTES) {
    throw new CryptoError('SECRET_UNSEAL_FAILED', 'sealed secret did not open');
  }
  const opened = await openDirect(sealed, dataKey);
  if (opened === null) throw new CryptoError('SECRET_UNSEAL_FAILED', 'sealed secret did not open');
  if (opened.header.cred !== expected.cred || opened.header.ver !== expected.ver) {
    zeroize(opened.plaintext);
    throw new CryptoError('ENVELOPE_HEADER_MISMATCH', 'sealed secret belongs to another credential or version');
  }
  return opened.plaintext;
}
