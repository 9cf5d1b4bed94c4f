import { CompactEncrypt, compactDecrypt, type CompactJWEHeaderParameters } from 'jose';

// Headers a caller may not set: they steer jose's key management or parsing.
const RESERVED_JWE_HEADERS = new Set([
  'alg', 'enc', 'zip', 'crit', 'kid', 'epk', 'apu', 'apv', 'iv', 'tag', 'p2s', 'p2c',
  'jku', 'jwk', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'typ', 'cty',
]);

export type ExtraHeader = Record<string, string | number>;

export function checkExtraHeader(header: ExtraHeader): void {
  if (typeof header !== 'object' || header === null) throw new TypeError('header must be an object');
  for (const [name, value] of Object.entries(header)) {
    if (RESERVED_JWE_HEADERS.has(name)) throw new TypeError(`header member "${name}" is reserved`);
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
      throw new TypeError(`header member "${name}" must be a string or a finite number`);
    }
  }
}

export function toBufferView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function sealDirect(plaintext: Uint8Array, key: Uint8Array, header: ExtraHeader): Promise<string> {
  checkExtraHeader(header);
  return new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', ...header }).encrypt(key);
}

/** Returns null on any failure: callers turn it into their own error code. */
export async function openDirect(
  sealed: string,
  key: Uint8Array,
): Promise<{ plaintext: Buffer; header: CompactJWEHeaderParameters } | null> {
  if (typeof sealed !== 'string') return null;
  try {
    const { plaintext, protectedHeader } = await compactDecrypt(sealed, key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      maxDecompressedLength: 0,
    });
    return { plaintext: toBufferView(plaintext), header: protectedHeader };
  } catch {
    return null;
  }
}
