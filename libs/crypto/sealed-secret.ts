import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from './encoding.js';
import { CryptoError } from './errors.js';
import { openDirect, sealDirect } from './jose-helpers.js';
import { zeroize } from './zeroize.js';

/** What a sealed secret is bound to (spec §3): its credential, version, kind and config. */
interface SealedSecretMeta {
  cred: string;
  ver: number;
  kind: string;
  config: Record<string, unknown>;
}

const DATA_KEY_BYTES = 32;

function checkDataKey(dataKey: Uint8Array): void {
  if (!(dataKey instanceof Uint8Array) || dataKey.byteLength !== DATA_KEY_BYTES) {
    throw new TypeError('data key must be 32 bytes');
  }
}

function checkMeta(meta: SealedSecretMeta): void {
  if (typeof meta?.cred !== 'string' || meta.cred === '' || !Number.isSafeInteger(meta.ver) || typeof meta.kind !== 'string' || meta.kind === '') {
    throw new TypeError('meta must be {cred: non-empty string, ver: integer, kind: non-empty string, config: object}');
  }
  if (typeof meta.config !== 'object' || meta.config === null || Array.isArray(meta.config)) throw new TypeError('meta.config must be an object');
}

/**
 * The header member `cfg`: b64u(SHA-256(JCS(config))), which binds a credential's
 * config (where its secret is sent) to the sealed secret.
 *
 * @example
 * configDigest({ baseUrl: 'https://api.example.com' }); // 43 base64url characters
 */
export function configDigest(config: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(config), 'utf8').digest('base64url');
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
 * `cred`, `ver`, `kind` and `cfg` (the config's digest) in the (authenticated)
 * protected header, so that a changed config or kind never opens.
 *
 * @example
 * const sealed = await sealSecret(secret, dataKey, { cred: 'cred_1', ver: 1, kind: 'http-token', config: { baseUrl } });
 */
export async function sealSecret(secret: Uint8Array, dataKey: Uint8Array, meta: SealedSecretMeta): Promise<string> {
  checkDataKey(dataKey);
  checkMeta(meta);
  return sealDirect(secret, dataKey, { cred: meta.cred, ver: meta.ver, kind: meta.kind, cfg: configDigest(meta.config) });
}

/**
 * Opens a sealed credential. Enforces:
 * - a wrong data key (for instance one combined from a bad share) fails on the
 *   GCM tag: SECRET_UNSEAL_FAILED, never a wrong secret;
 * - ENVELOPE_HEADER_MISMATCH when it opens but belongs to another credential or version;
 * - SECRET_BINDING_MISSING when it was sealed without `kind` and `cfg` (before
 *   they were bound): it is used for nothing;
 * - SECRET_BINDING_MISMATCH when the expected kind or config differs from the
 *   sealed ones (a config changed outside a rotation).
 * The caller zeroes the returned buffer.
 *
 * @example
 * const secret = await openSealedSecret(sealed, dataKey, { cred: 'cred_1', ver: 1, kind: credential.kind, config: credential.config });
 * try { await run(secret); } finally { zeroize(secret); }
 */
export async function openSealedSecret(sealed: string, dataKey: Uint8Array, expected: SealedSecretMeta): Promise<Buffer> {
  checkMeta(expected);
  if (!(dataKey instanceof Uint8Array) || dataKey.byteLength !== DATA_KEY_BYTES) {
    throw new CryptoError('SECRET_UNSEAL_FAILED', 'sealed secret did not open');
  }
  const opened = await openDirect(sealed, dataKey);
  if (opened === null) throw new CryptoError('SECRET_UNSEAL_FAILED', 'sealed secret did not open');
  const refuse = (code: 'ENVELOPE_HEADER_MISMATCH' | 'SECRET_BINDING_MISSING' | 'SECRET_BINDING_MISMATCH', message: string): never => {
    zeroize(opened.plaintext);
    throw new CryptoError(code, message);
  };
  const { cred, ver, kind, cfg } = opened.header;
  if (cred !== expected.cred || ver !== expected.ver) refuse('ENVELOPE_HEADER_MISMATCH', 'sealed secret belongs to another credential or version');
  if (typeof kind !== 'string' || typeof cfg !== 'string') refuse('SECRET_BINDING_MISSING', 'sealed secret is bound to no kind and config');
  if (kind !== expected.kind || cfg !== configDigest(expected.config)) refuse('SECRET_BINDING_MISMATCH', 'the credential kind or config differs from the one sealed with the secret');
  return opened.plaintext;
}
