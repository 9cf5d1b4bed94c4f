import canonicalize from 'canonicalize';
import { compactDecrypt, CompactSign } from 'jose';
import { CustodianError } from './errors.js';
import { toB64u, utf8 } from './encoding.js';
import { openOwnShare } from './share-envelope.js';

const KEY_ALG = 'ECDH-ES+A256KW';
const CONTENT_ENC = 'A256GCM';

/** `GET /api/v1/credentials/:id/share` (spec §4a): the caller's own envelope and a one-time challenge sealed to their key. */
export interface CheckInShare {
  envelope: string;
  index: number;
  /** the 0-based group of grouped sharing (§3a); absent for one group */
  group?: number;
  version: number;
  challenge: string;
}

export interface PrepareCheckInInput {
  credentialId: string;
  share: CheckInShare;
  userId: string;
  keys: { encryptionPrivateKey: CryptoKey; signingPrivateKey: CryptoKey; signingKid: string };
  nowSeconds: number;
}

/**
 * The share commitment (spec §3, §3a): hex SHA-256 of JCS `{cred, ver, idx, share: b64u(share)}`,
 * with `grp` for grouped credentials. The same value the gateway stored at sealing.
 *
 * @example
 * const commitment = await shareCommitment({ cred, ver: 1, idx: 2, share });
 */
export async function shareCommitment(c: { cred: string; ver: number; idx: number; grp?: number; share: Uint8Array }): Promise<string> {
  const json = canonicalize({ cred: c.cred, ver: c.ver, ...(c.grp !== undefined ? { grp: c.grp } : {}), idx: c.idx, share: toB64u(c.share) });
  if (json === undefined) throw new TypeError('commitment input cannot be serialised');
  const hash = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', utf8.encode(json)));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Opens a check-in challenge (a JWE to the custodian's encryption key whose plaintext is the
 * nonce as b64u text). SHARE_ENVELOPE_INVALID when it does not open, names another
 * credential or version, or holds no nonce.
 */
async function openChallenge(challenge: string, encryptionPrivateKey: CryptoKey, expected: { cred: string; ver: number }): Promise<string> {
  let opened;
  try {
    opened = await compactDecrypt(challenge, encryptionPrivateKey, { keyManagementAlgorithms: [KEY_ALG], contentEncryptionAlgorithms: [CONTENT_ENC], maxDecompressedLength: 0 });
  } catch {
    throw new CustodianError('SHARE_ENVELOPE_INVALID', 'the check-in challenge did not open with this key');
  }
  const { cred, ver, purpose } = opened.protectedHeader;
  if (cred !== expected.cred || ver !== expected.ver || purpose !== 'check-in') {
    throw new CustodianError('SHARE_HEADER_MISMATCH', 'the check-in challenge is for another credential, version or purpose');
  }
  const nonce = new TextDecoder().decode(opened.plaintext);
  if (!/^[A-Za-z0-9_-]{43}$/.test(nonce)) throw new CustodianError('SHARE_ENVELOPE_INVALID', 'the check-in challenge holds no nonce');
  return nonce;
}

/**
 * Builds the body of `POST /api/v1/credentials/:id/check-ins` (spec §4a): opens the own
 * share and the challenge with the custodian's encryption key, checks that the envelope
 * is for this credential, version and index (SHARE_HEADER_MISMATCH), computes the
 * commitment and signs the check-in statement (JWS ES256, `typ: qg-checkin+jwt`,
 * payload `{cred, ver, idx, grp?, commitment, nonce, sub, iat}`). The share bytes are
 * zeroed and never leave this function.
 *
 * @example
 * const { statement } = await prepareCheckIn({ credentialId, share: await api.getCredentialShare(credentialId), userId: me.id, keys, nowSeconds });
 */
export async function prepareCheckIn(input: PrepareCheckInInput): Promise<{ statement: string; commitment: string }> {
  const { credentialId, share: s, userId, keys, nowSeconds } = input;
  if (!Number.isSafeInteger(nowSeconds)) throw new TypeError('nowSeconds must be an integer');
  const { share, header } = await openOwnShare(s.envelope, keys.encryptionPrivateKey);
  let commitment: string;
  try {
    if (header.cred !== credentialId || header.ver !== s.version || header.idx !== s.index) {
      throw new CustodianError('SHARE_HEADER_MISMATCH', 'the share envelope is for another credential, version or index');
    }
    commitment = await shareCommitment({ cred: credentialId, ver: s.version, idx: s.index, ...(s.group !== undefined ? { grp: s.group } : {}), share });
  } finally {
    share.fill(0);
  }
  const nonce = await openChallenge(s.challenge, keys.encryptionPrivateKey, { cred: credentialId, ver: s.version });
  const claims = { cred: credentialId, ver: s.version, idx: s.index, ...(s.group !== undefined ? { grp: s.group } : {}), commitment, nonce, sub: userId, iat: nowSeconds };
  const json = canonicalize(claims);
  if (json === undefined) throw new TypeError('claims cannot be serialised');
  const statement = await new CompactSign(utf8.encode(json)).setProtectedHeader({ alg: 'ES256', kid: keys.signingKid, typ: 'qg-checkin+jwt' }).sign(keys.signingPrivateKey);
  return { statement, commitment };
}
