/**
 * The custodian's private keys in this browser: non-extractable WebCrypto keys
 * kept in IndexedDB, one record per user id. JavaScript (ours or an injected
 * script) can use them to sign and decrypt while the page is open, but can
 * never read their bytes out.
 *
 * Backups: a non-extractable key cannot be exported, so the only moment a
 * backup can be made is enrolment. `createKeys` generates extractable key
 * pairs, exports the private JWKs once into a passphrase-encrypted backup
 * (libs/custodian `encryptBackup`: PBKDF2-SHA256 + AES-256-GCM), re-imports
 * them as non-extractable keys and stores only those. The extractable
 * originals go out of scope right after. `restoreFromBackup` does the
 * same re-import from a backup file.
 */
import {
  CustodianError,
  decryptBackup,
  encryptBackup,
  exportPublicJwks,
  generateCustodianKeys,
  type CustodianKeys,
  type CustodianPublicJwks,
  type JWK,
} from '../../../libs/custodian/index.ts';

const DB_NAME = 'quorumgate';
const STORE = 'custodian-keys';
const EC_P256 = { namedCurve: 'P-256' } as const;

export interface StoredKeys {
  userId: string;
  username: string;
  keys: CustodianKeys;
  encryptionThumbprint: string;
  signingThumbprint: string;
  createdAt: string;
}

interface BackupContents {
  v: 1;
  userId: string;
  username: string;
  encryption: JWK;
  signing: JWK;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'userId' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`this browser refused its key storage (IndexedDB): ${req.error?.message ?? 'unknown error'}`));
  });
}

async function withStore<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(new Error(`key storage failed: ${tx.error?.message ?? 'unknown error'}`));
      tx.onabort = () => reject(new Error(`key storage failed: ${tx.error?.message ?? 'aborted'}`));
    });
  } finally {
    db.close();
  }
}

export async function loadKeys(userId: string): Promise<StoredKeys | null> {
  const found = await withStore<StoredKeys | undefined>('readonly', (s) => s.get(userId) as IDBRequest<StoredKeys | undefined>);
  return found ?? null;
}

async function saveKeys(record: StoredKeys): Promise<void> {
  await withStore('readwrite', (s) => s.put(record));
}

export async function deleteKeys(userId: string): Promise<void> {
  await withStore('readwrite', (s) => s.delete(userId));
}

/** Imports private JWKs (from a fresh key pair or a backup) as non-extractable CryptoKeys. */
async function importNonExtractable(encryption: JWK, signing: JWK): Promise<CustodianKeys> {
  const subtle = crypto.subtle;
  const pub = (jwk: JWK): JsonWebKey => ({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
  const [encPriv, encPub, sigPriv, sigPub] = await Promise.all([
    subtle.importKey('jwk', encryption as JsonWebKey, { name: 'ECDH', ...EC_P256 }, false, ['deriveBits']),
    subtle.importKey('jwk', pub(encryption), { name: 'ECDH', ...EC_P256 }, true, []),
    subtle.importKey('jwk', signing as JsonWebKey, { name: 'ECDSA', ...EC_P256 }, false, ['sign']),
    subtle.importKey('jwk', pub(signing), { name: 'ECDSA', ...EC_P256 }, true, ['verify']),
  ]);
  return { encryption: { privateKey: encPriv, publicKey: encPub }, signing: { privateKey: sigPriv, publicKey: sigPub } };
}

function record(userId: string, username: string, keys: CustodianKeys, jwks: CustodianPublicJwks): StoredKeys {
  return {
    userId,
    username,
    keys,
    encryptionThumbprint: jwks.encryptionThumbprint,
    signingThumbprint: jwks.signingThumbprint,
    createdAt: new Date().toISOString(),
  };
}

/**
 * New custodian keys for `userId`, stored non-extractable. With a passphrase,
 * also returns the encrypted backup (the only chance to make one).
 * `register` sends the public keys to the gateway (`PUT /api/v1/me/keys`);
 * the keys are stored only once it succeeded, so a refused enrolment never
 * replaces keys that still open this user's shares.
 */
export async function createKeys(
  userId: string,
  username: string,
  passphrase: string | null,
  register: (jwks: CustodianPublicJwks) => Promise<void>,
): Promise<{ stored: StoredKeys; jwks: CustodianPublicJwks; backup: string | null }> {
  let keys: CustodianKeys;
  let backup: string | null = null;
  if (passphrase === null) {
    keys = await generateCustodianKeys();
  } else {
    const exportable = await generateCustodianKeys({ extractable: true });
    const [encryption, signing] = await Promise.all([
      crypto.subtle.exportKey('jwk', exportable.encryption.privateKey),
      crypto.subtle.exportKey('jwk', exportable.signing.privateKey),
    ]);
    const contents: BackupContents = { v: 1, userId, username, encryption: encryption as JWK, signing: signing as JWK };
    backup = await encryptBackup(JSON.stringify(contents), passphrase);
    keys = await importNonExtractable(contents.encryption, contents.signing);
  }
  const jwks = await exportPublicJwks(keys);
  await register(jwks);
  const stored = record(userId, username, keys, jwks);
  await saveKeys(stored);
  return { stored, jwks, backup };
}

/** Thrown when a backup opens but does not belong here. */
export class BackupMismatchError extends Error {}

/**
 * Restores keys from a backup made by `createKeys`. Refuses a backup of
 * another user, or whose keys are not the ones the gateway has enrolled
 * for this user (when `expected` is given).
 */
export async function restoreFromBackup(
  userId: string,
  username: string,
  backup: string,
  passphrase: string,
  expected: { encryptionThumbprint: string; signingThumbprint: string } | null,
): Promise<StoredKeys> {
  let contents: BackupContents;
  try {
    contents = JSON.parse(await decryptBackup(backup.trim(), passphrase)) as BackupContents;
  } catch (error) {
    if (error instanceof CustodianError) throw new BackupMismatchError('This backup does not open with that passphrase, or the file is damaged.');
    throw error;
  }
  if (contents.v !== 1 || typeof contents.encryption !== 'object' || typeof contents.signing !== 'object') {
    throw new BackupMismatchError('This file is not a quorumgate key backup.');
  }
  if (contents.userId !== userId) {
    throw new BackupMismatchError(`This backup belongs to ${contents.username}, not to you (${username}).`);
  }
  const keys = await importNonExtractable(contents.encryption, contents.signing);
  const jwks = await exportPublicJwks(keys);
  if (expected !== null && (jwks.encryptionThumbprint !== expected.encryptionThumbprint || jwks.signingThumbprint !== expected.signingThumbprint)) {
    throw new BackupMismatchError('This backup holds older keys: they are not the keys the gateway has enrolled for you.');
  }
  const stored = record(userId, username, keys, jwks);
  await saveKeys(stored);
  return stored;
}
