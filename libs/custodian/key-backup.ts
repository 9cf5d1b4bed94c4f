import { CustodianError } from './errors.js';
import { fromB64u, isRecord, toB64u, utf8 } from './encoding.js';

const KDF = 'PBKDF2-SHA256';
const ITERATIONS = 600_000;
// Bounds the work an attacker-supplied blob can make us do.
const MAX_ITERATIONS = 10_000_000;

interface BackupBlob {
  v: 1;
  kdf: typeof KDF;
  iter: number;
  salt: string;
  iv: string;
  ct: string;
}

async function deriveKey(passphrase: string, salt: Uint8Array<ArrayBuffer>, iterations: number, usage: KeyUsage): Promise<CryptoKey> {
  const subtle = globalThis.crypto.subtle;
  const base = await subtle.importKey('raw', utf8.encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    [usage],
  );
}

function checkPassphrase(passphrase: string): void {
  if (typeof passphrase !== 'string' || passphrase === '') throw new TypeError('passphrase must be a non-empty string');
}

/**
 * Encrypts a key backup (for example the JSON of extractable private JWKs)
 * under a passphrase: PBKDF2-SHA256, 600000 iterations, AES-256-GCM. Returns a
 * JSON string `{v, kdf, iter, salt, iv, ct}` (b64u fields).
 *
 * @example
 * const blob = await encryptBackup(JSON.stringify({ encryption: encJwk, signing: sigJwk }), passphrase);
 */
export async function encryptBackup(plaintext: string, passphrase: string): Promise<string> {
  if (typeof plaintext !== 'string') throw new TypeError('plaintext must be a string');
  checkPassphrase(passphrase);
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const key = await deriveKey(passphrase, salt, ITERATIONS, 'encrypt');
  const ct = await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, utf8.encode(plaintext));
  const blob: BackupBlob = { v: 1, kdf: KDF, iter: ITERATIONS, salt: toB64u(salt), iv: toB64u(iv), ct: toB64u(new Uint8Array(ct)) };
  return JSON.stringify(blob);
}

/**
 * Decrypts what {@link encryptBackup} produced. BACKUP_INVALID for a wrong
 * passphrase, a tampered or malformed blob.
 *
 * @example
 * const jwks = JSON.parse(await decryptBackup(blob, passphrase));
 */
export async function decryptBackup(blob: string, passphrase: string): Promise<string> {
  checkPassphrase(passphrase);
  const invalid = () => new CustodianError('BACKUP_INVALID', 'backup does not open with this passphrase');
  let parsed: unknown;
  try {
    parsed = JSON.parse(blob);
  } catch {
    throw invalid();
  }
  if (!isRecord(parsed) || parsed.v !== 1 || parsed.kdf !== KDF) throw invalid();
  const { iter } = parsed;
  if (!Number.isSafeInteger(iter) || (iter as number) < ITERATIONS || (iter as number) > MAX_ITERATIONS) throw invalid();
  const salt = fromB64u(parsed.salt);
  const iv = fromB64u(parsed.iv);
  const ct = fromB64u(parsed.ct);
  if (salt === null || salt.byteLength < 16 || iv === null || iv.byteLength !== 12 || ct === null) throw invalid();
  try {
    const key = await deriveKey(passphrase, salt, iter as number, 'decrypt');
    const pt = await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, ct);
    return new TextDecoder('utf-8', { fatal: true }).decode(pt);
  } catch {
    throw invalid();
  }
}
