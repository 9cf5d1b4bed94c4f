import { CompactEncrypt, compactDecrypt, type JWK } from 'jose';
import { CustodianError } from './errors.js';
import { importEcdhPublicJwk } from './keys.js';

const KEY_ALG = 'ECDH-ES+A256KW';
const CONTENT_ENC = 'A256GCM';

export interface OwnShareHeader {
  cred: string;
  ver: number;
  idx: number;
  /** the 0-based sharing group of a grouped credential (spec §3a); absent for one group */
  grp?: number;
  kid: string;
}

function isGroup(v: unknown): v is number | undefined {
  return v === undefined || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 15);
}

function isIndex(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 255;
}

/** shamirs-secret-sharing share bytes: [0x08, index, ...data]. */
function shareBytesIndex(share: Uint8Array): number | null {
  return share.byteLength >= 3 && share[0] === 0x08 ? share[1] : null;
}

/**
 * Opens the custodian's own share envelope with its ECDH private key (works
 * with a non-extractable `CryptoKey`). Enforces `ECDH-ES+A256KW` / `A256GCM`,
 * no compression, a header with `kid`, `cred`, `ver`, `idx` (else
 * SHARE_ENVELOPE_INVALID) and share bytes whose own index is `idx` (else
 * SHARE_HEADER_MISMATCH). The caller zeroes `share` when done.
 *
 * @example
 * const { share, header } = await openOwnShare(envelope, keys.encryption.privateKey);
 */
export async function openOwnShare(
  envelope: string,
  encryptionPrivateKey: CryptoKey,
): Promise<{ share: Uint8Array; header: OwnShareHeader }> {
  if (typeof envelope !== 'string') throw new CustodianError('SHARE_ENVELOPE_INVALID', 'share envelope must be a string');
  let opened;
  try {
    opened = await compactDecrypt(envelope, encryptionPrivateKey, {
      keyManagementAlgorithms: [KEY_ALG],
      contentEncryptionAlgorithms: [CONTENT_ENC],
      maxDecompressedLength: 0,
    });
  } catch {
    throw new CustodianError('SHARE_ENVELOPE_INVALID', 'share envelope did not open with this key');
  }
  const share = opened.plaintext;
  const { cred, ver, idx, kid, grp } = opened.protectedHeader;
  if (typeof cred !== 'string' || !Number.isSafeInteger(ver) || !isIndex(idx) || typeof kid !== 'string' || !isGroup(grp)) {
    share.fill(0);
    throw new CustodianError('SHARE_ENVELOPE_INVALID', 'share envelope header lacks kid, cred, ver or idx');
  }
  if (shareBytesIndex(share) !== idx) {
    share.fill(0);
    throw new CustodianError('SHARE_HEADER_MISMATCH', 'share bytes do not match the envelope index');
  }
  return { share, header: { cred, ver: ver as number, idx, ...(grp !== undefined ? { grp } : {}), kid } };
}

/**
 * Re-seals a share to the request's public key: JWE compact `ECDH-ES+A256KW` /
 * `A256GCM`, protected header `kid` (request key thumbprint), `req`, `idx`,
 * `digest`, the request digest this custodian approved (the gateway uses the share
 * for that exact request only, spec §2 item 10) and, for a grouped credential, `grp`.
 * REQUEST_KEY_INVALID if the JWK is not a P-256 public key (or has a private
 * member, or a `kid` that is not its thumbprint).
 *
 * @example
 * const sealed = await sealShareToRequestKey(share, request.requestKey, { req: request.id, idx: 2, digest });
 */
export async function sealShareToRequestKey(
  share: Uint8Array,
  requestPublicJwk: JWK,
  h: { req: string; idx: number; digest: string; grp?: number },
): Promise<string> {
  if (typeof h?.req !== 'string' || h.req === '' || !isIndex(h.idx) || typeof h.digest !== 'string' || h.digest === '' || !isGroup(h.grp)) {
    throw new TypeError('h must be {req: non-empty string, idx: integer in 1..255, digest: non-empty string}');
  }
  const imported = await importEcdhPublicJwk(requestPublicJwk);
  if (imported === null) throw new CustodianError('REQUEST_KEY_INVALID', 'request key is not a P-256 public JWK');
  return new CompactEncrypt(share)
    .setProtectedHeader({ alg: KEY_ALG, enc: CONTENT_ENC, kid: imported.thumbprint, req: h.req, ...(h.grp !== undefined ? { grp: h.grp } : {}), idx: h.idx, digest: h.digest })
    .encrypt(imported.key);
}
