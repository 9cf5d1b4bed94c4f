import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { isRecord } from './checks.js';
import { ExecutorError } from './executor-error.js';
import { GENERATED_SIGNING_ALGS, type GeneratedSigningAlg } from '../contracts/index.js';

// The secret arrives as a Buffer, but JSON parsing turns it into JS strings
// (the JSON text, `d`, the RSA factors) that cannot be zeroed: they stay in
// the heap until the garbage collector reuses the memory. What we control:
// the key is imported non-extractable and no copy of it outlives the call.

export const SIGNING_ALGS = ['ES256', 'EdDSA', 'PS256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
type KeyType = 'EC' | 'OKP' | 'RSA';

export interface SigningKey {
  readonly keyType: KeyType;
  readonly privateJwk: JWK;
  /** Public members and `kid` (RFC 7638 thumbprint) only. */
  readonly publicJwk: JWK;
  readonly kid: string;
  /** The JWK's own `alg`, which restricts the key to that algorithm. */
  readonly declaredAlg: SigningAlg | undefined;
}

const MAX_SECRET_BYTES = 64 * 1024;
const MIN_RSA_BYTES = 256;
const MAX_RSA_BYTES = 1024;
const B64U = /^[A-Za-z0-9_-]+$/;

const MEMBERS: Record<KeyType, { public: readonly string[]; private: readonly string[] }> = {
  EC: { public: ['crv', 'x', 'y'], private: ['d'] },
  OKP: { public: ['crv', 'x'], private: ['d'] },
  RSA: { public: ['n', 'e'], private: ['d', 'p', 'q', 'dp', 'dq', 'qi'] },
};
const ALGS_FOR: Record<KeyType, readonly SigningAlg[]> = { EC: ['ES256'], OKP: ['EdDSA'], RSA: ['PS256', 'RS256'] };
const DEFAULT_ALG: Record<KeyType, SigningAlg> = { EC: 'ES256', OKP: 'EdDSA', RSA: 'PS256' };

function invalid(message: string): ExecutorError {
  return new ExecutorError('SECRET_INVALID', `signing-key: ${message}`);
}

function keyTypeOf(jwk: Record<string, unknown>): KeyType {
  switch (jwk.kty) {
    case 'EC':
      if (jwk.crv !== 'P-256') throw invalid('an EC key must be on curve P-256');
      return 'EC';
    case 'OKP':
      if (jwk.crv !== 'Ed25519') throw invalid('an OKP key must be Ed25519');
      return 'OKP';
    case 'RSA':
      if (jwk.oth !== undefined) throw invalid('multi-prime RSA keys are not supported');
      return 'RSA';
    default:
      throw invalid('kty must be EC (P-256), OKP (Ed25519) or RSA');
  }
}

function byteLength(jwk: Record<string, unknown>, member: string): number {
  const value = jwk[member];
  if (typeof value !== 'string' || !B64U.test(value)) throw invalid(`member "${member}" must be a base64url string`);
  return Buffer.byteLength(value, 'base64url');
}

function checkSizes(keyType: KeyType, jwk: Record<string, unknown>): void {
  switch (keyType) {
    case 'EC':
      for (const m of ['x', 'y', 'd']) if (byteLength(jwk, m) !== 32) throw invalid(`member "${m}" must be 32 bytes`);
      return;
    case 'OKP':
      for (const m of ['x', 'd']) if (byteLength(jwk, m) !== 32) throw invalid(`member "${m}" must be 32 bytes`);
      return;
    case 'RSA': {
      const n = Buffer.from(jwk.n as string, 'base64url');
      const bytes = n.byteLength - (n[0] === 0 ? 1 : 0);
      if (bytes < MIN_RSA_BYTES || bytes > MAX_RSA_BYTES) throw invalid('the RSA modulus must be 2048 to 8192 bits');
      return;
    }
    default:
      throw invalid('unsupported key type');
  }
}

function declaredAlgOf(keyType: KeyType, jwk: Record<string, unknown>): SigningAlg | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') throw invalid('"use" must be "sig" when present');
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('sign'))) {
    throw invalid('"key_ops" must include "sign" when present');
  }
  if (jwk.alg === undefined) return undefined;
  const alg = ALGS_FOR[keyType].find((a) => a === jwk.alg);
  if (alg === undefined) throw invalid(`"alg" must be one of ${ALGS_FOR[keyType].join(', ')} for this key type`);
  return alg;
}

function pick(jwk: Record<string, unknown>, members: readonly string[]): JWK {
  const out: Record<string, string> = {};
  for (const m of members) out[m] = jwk[m] as string;
  return out as JWK;
}

/**
 * Parses a `signing-key` secret. Enforces:
 * - at most 64 KiB of UTF-8 JSON holding one object;
 * - `kty` EC with `crv` P-256, OKP with `crv` Ed25519, or RSA (2048–8192 bits, no `oth`);
 * - every key member present as base64url, `d` included (a private key), right sizes;
 * - `use`, `key_ops` and `alg`, when present, allow signing with an algorithm fitting the key.
 * Keeps only the key members; everything else in the JWK is dropped.
 *
 * @example
 * const key = await parseSigningKey(secret); // key.publicJwk, key.kid
 */
export async function parseSigningKey(secret: Buffer): Promise<SigningKey> {
  if (!Buffer.isBuffer(secret)) throw new TypeError('secret must be a Buffer');
  if (secret.byteLength === 0 || secret.byteLength > MAX_SECRET_BYTES) throw invalid('the secret must be 1 byte to 64 KiB');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(secret));
  } catch {
    throw invalid('the secret is not a JSON private JWK');
  }
  if (!isRecord(parsed)) throw invalid('the secret is not a JSON private JWK');
  const keyType = keyTypeOf(parsed);
  if (parsed.d === undefined) throw invalid('the JWK has no "d" member: it is not a private key');
  for (const m of [...MEMBERS[keyType].public, ...MEMBERS[keyType].private]) {
    if (m !== 'crv') byteLength(parsed, m);
  }
  checkSizes(keyType, parsed);
  const declaredAlg = declaredAlgOf(keyType, parsed);
  const publicJwk: JWK = { kty: keyType, ...pick(parsed, MEMBERS[keyType].public) };
  const privateJwk = { ...publicJwk, ...pick(parsed, MEMBERS[keyType].private) };
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { keyType, privateJwk, publicJwk: { ...publicJwk, kid }, kid, declaredAlg };
}

/**
 * Picks the algorithm for one signature: the requested one, else the key's
 * declared `alg`, else EC → ES256, OKP → EdDSA, RSA → PS256. Throws
 * PARAMS_INVALID when the request does not fit the key.
 *
 * @example
 * chooseAlgorithm(rsaKey, 'RS256'); // 'RS256'
 */
export function chooseAlgorithm(key: SigningKey, requested: string | undefined): SigningAlg {
  const allowed = ALGS_FOR[key.keyType];
  const alg = allowed.find((a) => a === (requested ?? key.declaredAlg ?? DEFAULT_ALG[key.keyType]));
  if (alg === undefined) {
    throw new ExecutorError('PARAMS_INVALID', `params.alg "${String(requested)}" does not fit a ${key.keyType} key (allowed: ${allowed.join(', ')})`);
  }
  if (key.declaredAlg !== undefined && alg !== key.declaredAlg) {
    throw new ExecutorError('PARAMS_INVALID', `params.alg: the key is restricted to ${key.declaredAlg}`);
  }
  return alg;
}

/** Imports the private key for one algorithm, non-extractable. */
export async function importSigningKey(key: SigningKey, alg: SigningAlg): Promise<CryptoKey> {
  let imported: CryptoKey | Uint8Array;
  try {
    imported = await importJWK(key.privateJwk, alg, { extractable: false });
  } catch {
    throw invalid('the key does not import');
  }
  if (imported instanceof Uint8Array) throw invalid('the key is not an asymmetric key');
  return imported;
}

/** WebCrypto parameters giving the JWS signature encoding (r‖s for ECDSA). */
function signatureAlgorithm(alg: SigningAlg): AlgorithmIdentifier | EcdsaParams | RsaPssParams {
  switch (alg) {
    case 'ES256':
      return { name: 'ECDSA', hash: 'SHA-256' };
    case 'EdDSA':
      return { name: 'Ed25519' };
    case 'PS256':
      return { name: 'RSA-PSS', saltLength: 32 };
    case 'RS256':
      return { name: 'RSASSA-PKCS1-v1_5' };
    default:
      throw new TypeError(`unsupported algorithm ${String(alg)}`);
  }
}

/**
 * Signs the bytes themselves (no JWS signing input).
 *
 * @example
 * const signature = await signRaw(cryptoKey, 'ES256', payload); // 64 bytes, r‖s
 */
export async function signRaw(cryptoKey: CryptoKey, alg: SigningAlg, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.sign(signatureAlgorithm(alg), cryptoKey, data));
}

/** One DER INTEGER: big-endian, leading zeros dropped, a 0x00 prefixed when the top bit is set. */
function derInteger(bytes: Uint8Array): number[] {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const value = Array.from(bytes.subarray(start));
  if ((value[0] ?? 0) & 0x80) value.unshift(0);
  return [0x02, value.length, ...value];
}

/**
 * An ECDSA P-256 signature in JWS form (r‖s, 64 bytes) as the DER
 * `SEQUENCE { r INTEGER, s INTEGER }` that `openssl dgst -verify` and most
 * X.509 tooling take. At most 72 bytes, so every length fits one byte.
 *
 * @example
 * ecdsaSignatureToDer(await signRaw(key, 'ES256', data)); // 30 44 02 20 … 02 20 …
 */
export function ecdsaSignatureToDer(signature: Uint8Array): Uint8Array {
  if (signature.byteLength !== 64) throw new TypeError('an ES256 signature is 64 bytes (r‖s)');
  const body = [...derInteger(signature.subarray(0, 32)), ...derInteger(signature.subarray(32))];
  return Uint8Array.from([0x30, body.length, ...body]);
}

/**
 * Signs a probe with the private members and verifies it with the public
 * ones: WebCrypto accepts an RSA JWK whose `n` belongs to another key, and
 * the public JWK published for such a key would verify nothing.
 */
export async function checkKeyPair(key: SigningKey, alg: SigningAlg): Promise<void> {
  const probe = new TextEncoder().encode('quorumgate key pair check');
  const signature = await signRaw(await importSigningKey(key, alg), alg, probe);
  let ok = false;
  try {
    const publicKey = await importJWK(key.publicJwk, alg);
    ok = await globalThis.crypto.subtle.verify(signatureAlgorithm(alg), publicKey as CryptoKey, new Uint8Array(signature), probe);
  } catch {
    ok = false;
  }
  if (!ok) throw invalid('the private and public members do not belong to one key');
}

/** The algorithm a signature uses when the request names none. */
export function defaultAlgorithm(key: SigningKey): SigningAlg {
  return key.declaredAlg ?? DEFAULT_ALG[key.keyType];
}

export { GENERATED_SIGNING_ALGS, type GeneratedSigningAlg };

/**
 * A fresh signing key pair made inside the gateway ("born split", spec §4): the
 * private JWK as the JSON bytes of a `signing-key` secret, which the caller seals,
 * splits and zeroes. EC P-256 for ES256, Ed25519 for EdDSA. The JSON strings the
 * export goes through cannot be zeroed (see the note at the top of this file).
 *
 * @example
 * const secret = await generateSigningKey('ES256'); // Buffer of {"kty":"EC","crv":"P-256","x","y","d"}
 */
export async function generateSigningKey(alg: GeneratedSigningAlg): Promise<Buffer> {
  if (!GENERATED_SIGNING_ALGS.includes(alg)) throw new ExecutorError('PARAMS_INVALID', `generate.alg must be one of ${GENERATED_SIGNING_ALGS.join(', ')}`);
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const jwk = await exportJWK(privateKey);
  const members = alg === 'ES256' ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d };
  return Buffer.from(JSON.stringify(members), 'utf8');
}
