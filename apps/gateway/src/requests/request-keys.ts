import { generateRequestKeyPair, importRequestPrivateKey, openWithMasterKey, sealWithMasterKey, zeroize, type JWK } from '#libs/crypto';

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

/** Opens the request's private key for `use`, and zeroes its bytes afterwards. */
export async function withRequestKey<T>(masterKey: Buffer, request: { id: string; requestPrivateKeySealed: string }, use: (key: CryptoKey) => Promise<T>): Promise<T> {
  const privateBytes = await openWithMasterKey(request.requestPrivateKeySealed, masterKey, requestKeyPurpose(request.id));
  try {
    return await use(await importRequestPrivateKey(JSON.parse(privateBytes.toString('utf8')) as JWK));
  } finally {
    zeroize(privateBytes);
  }
}
