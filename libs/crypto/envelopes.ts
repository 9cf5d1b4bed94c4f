import { createECDH } from 'node:crypto';
import { calculateJwkThumbprint, CompactEncrypt, compactDecrypt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { CryptoError } from './errors.js';
import { checkExtraHeader, toBufferView, type ExtraHeader } from './jose-helpers.js';
import { importPublicJwk } from './public-jwk.js';
import { shareIndex } from './shamir.js';
import { zeroize } from './zeroize.js';

const KEY_ALG = 'ECDH-ES+A256KW';
const CONTENT_ENC = 'A256GCM';

function checkGroup(grp: unknown): void {
  if (grp !== undefined && (!Number.isInteger(grp) || (grp as number) < 0 || (grp as number) > 15)) throw new TypeError('grp must be an integer in 0..15 when present');
}

function checkShareHeader(cred: unknown, ver: unknown, idx: unknown): void {
  if (typeof cred !== 'string' || cred === '' || !Number.isSafeInteger(ver)) {
    throw new TypeError('header must carry cred (non-empty string) and ver (integer)');
  }
  if (!Number.isInteger(idx) || (idx as number) < 1 || (idx as number) > 255) {
    throw new TypeError('idx must be an integer in 1..255');
  }
}

/**
 * Encrypts to a P-256 public key: JWE compact `ECDH-ES+A256KW` / `A256GCM`,
 * protected header `kid` = the key's RFC 7638 thumbprint plus `header`
 * (JOSE-reserved names are refused). Used for share envelopes and for the
 * break-glass `reveal` to a requester's own key.
 *
 * @example
 * const envelope = await sealToPublicKey(secret, requester.encryptionKey, { req: request.id });
 */
export async function sealToPublicKey(plaintext: Uint8Array, jwk: JWK, header: ExtraHeader): Promise<string> {
  checkExtraHeader(header);
  const { key, thumbprint } = await importPublicJwk(jwk, 'encryption');
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: KEY_ALG, enc: CONTENT_ENC, kid: thumbprint, ...header })
    .encrypt(key);
}

/**
 * Seals one share to its custodian's encryption key; protected header `kid`,
 * `cred`, `ver`, `idx` and, for a grouped credential (spec §3a), `grp`. The
 * payload is the raw share bytes, whose own index must equal `h.idx`.
 *
 * @example
 * const envelope = await sealShareToCustodian(shares[0], custodian.encryptionKey, { cred, ver: 1, idx: 1 });
 */
export async function sealShareToCustodian(
  share: Uint8Array,
  custodianEncryptionJwk: JWK,
  h: { cred: string; ver: number; idx: number; grp?: number },
): Promise<string> {
  checkShareHeader(h.cred, h.ver, h.idx);
  checkGroup(h.grp);
  if (shareIndex(share) !== h.idx) throw new TypeError('share index differs from idx');
  return sealToPublicKey(share, custodianEncryptionJwk, { cred: h.cred, ver: h.ver, ...(h.grp !== undefined ? { grp: h.grp } : {}), idx: h.idx });
}

/**
 * A fresh P-256 ECDH key pair for one request. The private JWK is extractable
 * so the gateway can store it sealed under the master key (and delete it when
 * the request ends). Both JWKs carry `kid` = thumbprint, `alg`, `use: enc`.
 *
 * @example
 * const { publicJwk, privateJwk } = await generateRequestKeyPair();
 */
export async function generateRequestKeyPair(): Promise<{ publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(KEY_ALG, { crv: 'P-256', extractable: true });
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  // Not through importPublicJwk: WebCrypto made this key, and a key used once would only crowd out custodians' keys there.
  const thumbprint = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: pub.x, y: pub.y }, 'sha256');
  const meta = { kid: thumbprint, alg: KEY_ALG, use: 'enc' } as const;
  return {
    publicJwk: { kty: 'EC', crv: 'P-256', x: pub.x, y: pub.y, ...meta },
    privateJwk: { kty: 'EC', crv: 'P-256', x: priv.x, y: priv.y, d: priv.d, ...meta },
  };
}

/**
 * The public half of a request key, derived from its private JWK (spec §2 item 11):
 * the gateway answers with this, never with a stored public key a database writer
 * could swap for their own.
 *
 * @example
 * const requestKey = await requestPublicJwk(privateJwk); // {kty, crv, x, y, kid, alg, use}
 */
export async function requestPublicJwk(privateJwk: JWK): Promise<JWK> {
  if (typeof privateJwk !== 'object' || privateJwk === null || privateJwk.kty !== 'EC' || privateJwk.crv !== 'P-256' || typeof privateJwk.d !== 'string') {
    throw new CryptoError('JWK_INVALID', 'request private key must be an EC P-256 private JWK');
  }
  // From `d` alone: the stored x and y are not trusted to belong to it.
  let point: Buffer;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(privateJwk.d, 'base64url'));
    point = ecdh.getPublicKey();
  } catch {
    throw new CryptoError('JWK_INVALID', 'request private key does not import');
  }
  const x = point.subarray(1, 33).toString('base64url');
  const y = point.subarray(33, 65).toString('base64url');
  const thumbprint = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x, y }, 'sha256');
  return { kty: 'EC', crv: 'P-256', x, y, kid: thumbprint, alg: KEY_ALG, use: 'enc' };
}

/** The request's private key, imported once for opening several shares. */
export async function importRequestPrivateKey(jwk: JWK): Promise<CryptoKey> {
  if (typeof jwk !== 'object' || jwk === null || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') {
    throw new CryptoError('JWK_INVALID', 'request private key must be an EC P-256 private JWK');
  }
  try {
    const key = await importJWK({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d }, KEY_ALG);
    return key;
  } catch {
    throw new CryptoError('JWK_INVALID', 'request private key does not import');
  }
}

/** base64url without padding, as a compact JWE's segments are. */
const B64U = /^[A-Za-z0-9_-]+$/;

/**
 * Checks, without opening it, that a share sealed to the request key is meant for
 * this request (spec rev 2 §4: the gateway may skip the opening at approval, and
 * opens and checks every share at execution). Enforces, on the protected header only:
 * - a compact JWE of five non-empty base64url segments (ECDH-ES+A256KW always has an encrypted key): else ENVELOPE_INVALID;
 * - `alg` `ECDH-ES+A256KW`, `enc` `A256GCM`, no `zip`, an `epk` that is an EC P-256
 *   public key: else ENVELOPE_INVALID;
 * - `req`, `idx`, `digest` and `grp` (absent for one group) equal `expected`: else
 *   ENVELOPE_HEADER_MISMATCH.
 * What it cannot see (the key it was sealed to, the share bytes, the commitment) is
 * `openShareForRequest`'s and the commitment check's at execution. The header is
 * authenticated by the GCM tag, so a header that passes here and was altered fails there.
 *
 * @example
 * checkShareForRequestHeader(body.share, { req: request.id, idx: 2, digest });
 */
export function checkShareForRequestHeader(envelope: string, expected: { req: string; idx: number; digest: string; grp?: number }): void {
  if (typeof envelope !== 'string' || envelope.length > 16_384) throw new CryptoError('ENVELOPE_INVALID', 'share envelope is not a compact JWE');
  const parts = envelope.split('.');
  if (parts.length !== 5 || !parts.every((part) => B64U.test(part))) throw new CryptoError('ENVELOPE_INVALID', 'share envelope is not a compact JWE');
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(envelope) as Record<string, unknown>;
  } catch {
    throw new CryptoError('ENVELOPE_INVALID', 'share envelope header does not decode');
  }
  const epk = header['epk'] as Record<string, unknown> | undefined;
  const epkOk = typeof epk === 'object' && epk !== null && epk['kty'] === 'EC' && epk['crv'] === 'P-256' && typeof epk['x'] === 'string' && typeof epk['y'] === 'string' && epk['d'] === undefined;
  if (header['alg'] !== KEY_ALG || header['enc'] !== CONTENT_ENC || header['zip'] !== undefined || !epkOk) {
    throw new CryptoError('ENVELOPE_INVALID', `share envelope must be ${KEY_ALG} / ${CONTENT_ENC} with a P-256 epk`);
  }
  if (header['req'] !== expected.req || header['idx'] !== expected.idx || header['digest'] !== expected.digest || header['grp'] !== expected.grp) {
    throw new CryptoError('ENVELOPE_HEADER_MISMATCH', 'share envelope is for another request, index or digest');
  }
}

/**
 * Opens a share a custodian sealed to the request key. Enforces:
 * - `ECDH-ES+A256KW` / `A256GCM` only, no compression; any failure to decrypt: ENVELOPE_INVALID;
 * - authenticated header `req`, `idx`, `digest` (the request digest the custodian
 *   approved, spec §2 item 10) and `grp` (absent for one group, spec §3a) equal
 *   `expected`: else ENVELOPE_HEADER_MISMATCH;
 * - the payload is a well-formed share whose own index is `idx`: else SHARE_INVALID.
 * The share is not yet checked against its commitment; do that before combining.
 * `requestPrivateKey` is the private JWK, or that key from `importRequestPrivateKey`.
 *
 * @example
 * const share = await openShareForRequest(body.share, requestPrivateJwk, { req: request.id, idx: 2, digest });
 */
export async function openShareForRequest(
  envelope: string,
  requestPrivateKey: JWK | CryptoKey,
  expected: { req: string; idx: number; digest: string; grp?: number },
): Promise<Buffer> {
  const key = requestPrivateKey instanceof CryptoKey ? requestPrivateKey : await importRequestPrivateKey(requestPrivateKey);
  if (typeof envelope !== 'string') throw new CryptoError('ENVELOPE_INVALID', 'share envelope did not open');
  let opened;
  try {
    opened = await compactDecrypt(envelope, key, {
      keyManagementAlgorithms: [KEY_ALG],
      contentEncryptionAlgorithms: [CONTENT_ENC],
      maxDecompressedLength: 0,
    });
  } catch {
    throw new CryptoError('ENVELOPE_INVALID', 'share envelope did not open');
  }
  const share = toBufferView(opened.plaintext);
  const { req, idx, digest, grp } = opened.protectedHeader;
  if (req !== expected.req || idx !== expected.idx || digest !== expected.digest || grp !== expected.grp) {
    zeroize(share);
    throw new CryptoError('ENVELOPE_HEADER_MISMATCH', 'share envelope is for another request, index or digest');
  }
  let ownIndex: number;
  try {
    ownIndex = shareIndex(share);
  } catch (e) {
    zeroize(share);
    throw e;
  }
  if (ownIndex !== expected.idx) {
    zeroize(share);
    throw new CryptoError('SHARE_INVALID', 'share index differs from the envelope index');
  }
  return share;
}

/**
 * Opens a rotation's new secret, sealed by a client to a one-time intake key (spec §3).
 * Enforces: `ECDH-ES+A256KW` / `A256GCM` only, no compression (else ENVELOPE_INVALID);
 * authenticated header `kid`, `cred`, `ver` equal `expected` and `purpose` is `rotate`
 * (else ENVELOPE_HEADER_MISMATCH); a non-empty payload (else ENVELOPE_INVALID). The
 * caller zeroes the answer.
 *
 * @example
 * const secret = await openIntakeEnvelope(params.secret, intakePrivateJwk, { kid, cred: credential.id, ver: 3 });
 */
export async function openIntakeEnvelope(envelope: string, intakePrivateKey: JWK, expected: { kid: string; cred: string; ver: number }): Promise<Buffer> {
  const key = await importRequestPrivateKey(intakePrivateKey);
  if (typeof envelope !== 'string') throw new CryptoError('ENVELOPE_INVALID', 'intake envelope did not open');
  let opened;
  try {
    opened = await compactDecrypt(envelope, key, { keyManagementAlgorithms: [KEY_ALG], contentEncryptionAlgorithms: [CONTENT_ENC], maxDecompressedLength: 0 });
  } catch {
    throw new CryptoError('ENVELOPE_INVALID', 'intake envelope did not open');
  }
  const secret = toBufferView(opened.plaintext);
  const { kid, cred, ver, purpose } = opened.protectedHeader;
  if (kid !== expected.kid || cred !== expected.cred || ver !== expected.ver || purpose !== 'rotate') {
    zeroize(secret);
    throw new CryptoError('ENVELOPE_HEADER_MISMATCH', 'intake envelope is for another key, credential, version or purpose');
  }
  if (secret.length === 0) throw new CryptoError('ENVELOPE_INVALID', 'intake envelope carries an empty secret');
  return secret;
}
