import { CryptoError, generateRequestKeyPair, importRequestPrivateKey, openWithMasterKey, requestPublicJwk, sealWithMasterKey, zeroize, type JWK } from '#libs/crypto';
import type { RequestView } from './requests.repository.js';

/** The additional data the request's private key is sealed with: it opens for this request only. */
function requestKeyPurpose(requestId: string): string {
  return `request-key:${requestId}`;
}

/**
 * The request key pair (spec §3): a fresh P-256 ECDH pair whose public half custodians
 * seal their shares to, and whose private half is stored only sealed under the master key.
 */
export async function newRequestKey(masterKey: Buffer, requestId: string): Promise<{ publicJwk: JWK; sealedPrivate: string }> {
  const { publicJwk, privateJwk } = await generateRequestKeyPair();
  const privateBytes = Buffer.from(JSON.stringify(privateJwk));
  try {
    return { publicJwk, sealedPrivate: await sealWithMasterKey(privateBytes, masterKey, requestKeyPurpose(requestId)) };
  } finally {
    zeroize(privateBytes);
  }
}

async function withPrivateJwk<T>(masterKey: Buffer, request: { id: string; requestPrivateKeySealed: string }, use: (jwk: JWK) => Promise<T>): Promise<T> {
  const privateBytes = await openWithMasterKey(request.requestPrivateKeySealed, masterKey, requestKeyPurpose(request.id));
  try {
    return await use(JSON.parse(privateBytes.toString('utf8')) as JWK);
  } finally {
    zeroize(privateBytes);
  }
}

/** Opens the request's private key for `use`, and zeroes its bytes afterwards. */
export function withRequestKey<T>(masterKey: Buffer, request: { id: string; requestPrivateKeySealed: string }, use: (key: CryptoKey) => Promise<T>): Promise<T> {
  return withPrivateJwk(masterKey, request, async (jwk) => use(await importRequestPrivateKey(jwk)));
}

/**
 * The request's public key as clients get it (spec §2 item 11): derived from the
 * sealed private key, which opens only under the master key for this request id, so
 * no database writer can make custodians seal their shares to a key of theirs. Null
 * once the private key is destroyed (nothing can be sealed to the request any more),
 * and null when the sealed key does not open for this request (it was tampered with).
 */
export async function withPublicRequestKey(masterKey: Buffer, view: RequestView): Promise<RequestView> {
  const sealed = view.request.requestPrivateKeySealed;
  if (sealed === null) return { ...view, requestKey: null };
  try {
    return { ...view, requestKey: await withPrivateJwk(masterKey, { id: view.request.id, requestPrivateKeySealed: sealed }, requestPublicJwk) };
  } catch (error) {
    if (error instanceof CryptoError) return { ...view, requestKey: null };
    throw error;
  }
}
