/**
 * The custodian's private keys in this browser: non-extractable WebCrypto keys
 * kept in IndexedDB, one record per user id. JavaScript (ours or an injected
 * script) can use them to sign and decrypt while the page is open, but can
 * never read their bytes out.
 *
 * Backups (ADR 0021): a non-extractable key cannot be exported or wrapped,
 * so a backup is possible only from the private JWKs exported once at
 * creation. `createKeys` generates extractable key pairs, exports the private
 * JWKs, and re-imports them as non-extractable keys, the only ones it stores.
 * The JWKs then go into a passphrase-encrypted backup (libs/custodian
 * `encryptBackup`: PBKDF2-SHA256 + AES-256-GCM) right away or, when the user
 * chose "later", into a copy sealed with AES-256-GCM under a fresh
 * non-extractable key kept beside them (`pending`) until `makeLaterBackup`
 * turns it into a backup or `discardLaterBackup` drops it; either deletes the
 * copy. Keys made with no backup and no copy can never be backed up.
 * `restoreFromBackup` re-imports keys from a backup file. Each record says
 * what this browser knows about a backup of its keys (`backup`).
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

/** The private JWKs sealed for a backup the user chose to make later (ADR 0021). */
export interface PendingBackupCopy {
  key: CryptoKey;
  iv: Uint8Array<ArrayBuffer>;
  ciphertext: ArrayBuffer;
}

/**
 * What this browser knows about a backup of the keys it holds: `made` here (at),
 * `restored` from one (so one exists), `pending` (a sealed copy waits for the
 * passphrase), `none` (made without one, and no copy: it cannot be made any more).
 * Absent on records stored before the UI kept track.
 */
export type BackupInfo = { state: 'made'; at: string } | { state: 'restored'; at: string } | { state: 'pending'; since: string; copy: PendingBackupCopy } | { state: 'none' };

export interface StoredKeys {
  userId: string;
  username: string;
  keys: CustodianKeys;
  encryptionThumbprint: string;
  signingThumbprint: string;
  createdAt: string;
  backup?: BackupInfo;
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

function record(userId: string, username: string, keys: CustodianKeys, jwks: CustodianPublicJwks, backup: BackupInfo): StoredKeys {
  return {
    userId,
    username,
    keys,
    encryptionThumbprint: jwks.encryptionThumbprint,
    signingThumbprint: jwks.signingThumbprint,
    createdAt: new Date().toISOString(),
    backup,
  };
}

const utf8 = new TextEncoder();

/** Seals the backup contents under a fresh non-extractable AES-GCM key, for a backup made later. */
async function sealForLater(contents: BackupContents): Promise<PendingBackupCopy> {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, utf8.encode(JSON.stringify(contents)));
  return { key, iv, ciphertext };
}

/**
 * New custodian keys for `userId`, stored non-extractable. With a passphrase,
 * also returns the encrypted backup; without one and with `later`, keeps a
 * sealed copy so that `makeLaterBackup` can make it (ADR 0021); with neither,
 * no backup can ever be made.
 * `register` sends the public keys to the gateway (`PUT /api/v1/me/keys`);
 * the keys are stored only once it succeeded, so a refused enrolment never
 * replaces keys that still open this user's shares.
 */
export async function createKeys(
  userId: string,
  username: string,
  passphrase: string | null,
  register: (jwks: CustodianPublicJwks) => Promise<void>,
  options: { later?: boolean } = {},
): Promise<{ stored: StoredKeys; jwks: CustodianPublicJwks; backup: string | null }> {
  let keys: CustodianKeys;
  let backup: string | null = null;
  let info: BackupInfo = { state: 'none' };
  if (passphrase === null && options.later !== true) {
    keys = await generateCustodianKeys();
  } else {
    const exportable = await generateCustodianKeys({ extractable: true });
    const [encryption, signing] = await Promise.all([
      crypto.subtle.exportKey('jwk', exportable.encryption.privateKey),
      crypto.subtle.exportKey('jwk', exportable.signing.privateKey),
    ]);
    const contents: BackupContents = { v: 1, userId, username, encryption: encryption as JWK, signing: signing as JWK };
    if (passphrase !== null) {
      backup = await encryptBackup(JSON.stringify(contents), passphrase);
      info = { state: 'made', at: new Date().toISOString() };
    } else {
      info = { state: 'pending', since: new Date().toISOString(), copy: await sealForLater(contents) };
    }
    keys = await importNonExtractable(contents.encryption, contents.signing);
  }
  const jwks = await exportPublicJwks(keys);
  await register(jwks);
  const stored = record(userId, username, keys, jwks, info);
  await saveKeys(stored);
  return { stored, jwks, backup };
}

/**
 * The backup the user chose to make later: opens the sealed copy, encrypts it under
 * `passphrase`, then deletes the copy and remembers that a backup was made. The keys
 * themselves are untouched.
 */
export async function makeLaterBackup(userId: string, passphrase: string): Promise<string> {
  const stored = await loadKeys(userId);
  if (stored === null || stored.backup?.state !== 'pending') throw new BackupMismatchError('This browser keeps no copy of your keys to back up: the backup could only be made when they were created.');
  const { copy } = stored.backup;
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: copy.iv }, copy.key, copy.ciphertext);
  const backup = await encryptBackup(new TextDecoder().decode(plain), passphrase);
  await saveKeys({ ...stored, backup: { state: 'made', at: new Date().toISOString() } });
  return backup;
}

/** Drops the copy kept for a later backup: from now on no backup of these keys can be made. */
export async function discardLaterBackup(userId: string): Promise<void> {
  const stored = await loadKeys(userId);
  if (stored === null || stored.backup?.state !== 'pending') return;
  await saveKeys({ ...stored, backup: { state: 'none' } });
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
  const stored = record(userId, username, keys, jwks, { state: 'restored', at: new Date().toISOString() });
  await saveKeys(stored);
  return stored;
}
