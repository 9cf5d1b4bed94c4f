import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CustodianError,
  decryptBackup,
  encryptBackup,
  exportPublicJwks,
  generateCustodianKeys,
  type CustodianKeys,
  type CustodianPublicJwks,
  type JWK,
} from '#libs/custodian';
import { isRecord } from './api-client.js';
import { configDir, writePrivateFile } from './config.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';
import { canPrompt, promptHidden } from './prompt.js';

const FORMAT = 'qg-custodian-keys/1';
const MIN_PASSPHRASE = 8;

/**
 * The custodian key file. Only `backup` is trusted: it holds both private JWKs,
 * encrypted under the passphrase (libs/custodian encryptBackup). The thumbprints
 * beside it are for display, and are re-derived from the private keys on use.
 */
interface KeyFile {
  format: typeof FORMAT;
  createdAt: string;
  encryptionThumbprint: string;
  signingThumbprint: string;
  backup: string;
}

interface PrivateJwks {
  encryption: JWK;
  signing: JWK;
}

export interface LoadedKeys {
  keys: CustodianKeys;
  publicJwks: CustodianPublicJwks;
  path: string;
}

export function defaultKeyFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.QG_KEY_FILE !== undefined && env.QG_KEY_FILE !== '' ? env.QG_KEY_FILE : join(configDir(env), 'custodian-keys.json');
}

/** QG_KEY_PASSPHRASE, else a prompt on the terminal (twice when creating). */
export async function readPassphrase(purpose: 'create' | 'unlock', path: string): Promise<string> {
  const fromEnv = process.env.QG_KEY_PASSPHRASE;
  const hint = 'set QG_KEY_PASSPHRASE';
  let passphrase: string;
  if (fromEnv !== undefined && fromEnv !== '') passphrase = fromEnv;
  else if (purpose === 'unlock') passphrase = await promptHidden(`Passphrase for ${path}: `, hint);
  else {
    if (!canPrompt()) throw usageError(`no terminal to ask for a passphrase on: ${hint}`);
    passphrase = await promptHidden(`New passphrase for ${path}: `, hint);
    const again = await promptHidden('Repeat the passphrase: ', hint);
    if (again !== passphrase) throw usageError('the passphrases differ');
  }
  if (purpose === 'create' && [...passphrase].length < MIN_PASSPHRASE) throw usageError(`the passphrase needs at least ${MIN_PASSPHRASE} characters`);
  return passphrase;
}

/** Generates both P-256 key pairs (extractable, to be written out) and saves them encrypted, mode 0600. */
export async function createKeyFile(path: string, passphrase: string, options: { force: boolean }): Promise<CustodianPublicJwks> {
  if (!options.force && (await exists(path))) throw usageError(`${path} exists: keep it, or pass --force to replace it (re-enrolling leaves the shares you hold unopenable until a security lead re-shares them)`);
  const keys = await generateCustodianKeys({ extractable: true });
  const subtle = globalThis.crypto.subtle;
  const [encryption, signing] = await Promise.all([subtle.exportKey('jwk', keys.encryption.privateKey), subtle.exportKey('jwk', keys.signing.privateKey)]);
  const privateJwks: PrivateJwks = { encryption: minimalPrivate(encryption), signing: minimalPrivate(signing) };
  const publicJwks = await exportPublicJwks(keys);
  const file: KeyFile = {
    format: FORMAT,
    createdAt: new Date().toISOString(),
    encryptionThumbprint: publicJwks.encryptionThumbprint,
    signingThumbprint: publicJwks.signingThumbprint,
    backup: await encryptBackup(JSON.stringify(privateJwks), passphrase),
  };
  await writePrivateFile(path, `${JSON.stringify(file, null, 2)}\n`, { exclusive: !options.force });
  return publicJwks;
}

/** Opens the key file; the private keys come back as non-extractable CryptoKeys. */
export async function loadKeyFile(path: string, passphrase?: string): Promise<LoadedKeys> {
  const file = await readKeyFile(path);
  const secret = passphrase ?? (await readPassphrase('unlock', path));
  let plaintext: string;
  try {
    plaintext = await decryptBackup(file.backup, secret);
  } catch (error) {
    if (error instanceof CustodianError) throw new CliError(`${path} does not open with this passphrase (or is damaged)`);
    throw error;
  }
  const parsed: unknown = JSON.parse(plaintext);
  if (!isRecord(parsed) || !isRecord(parsed.encryption) || !isRecord(parsed.signing)) throw new CliError(`${path} holds no custodian keys`);
  const keys = await importKeys(parsed.encryption as JWK, parsed.signing as JWK, path);
  return { keys, publicJwks: await exportPublicJwks(keys), path };
}

/** The display-only metadata, without the passphrase. */
export async function peekKeyFile(path: string): Promise<{ encryptionThumbprint: string; signingThumbprint: string; createdAt: string } | undefined> {
  if (!(await exists(path))) return undefined;
  const file = await readKeyFile(path);
  return { encryptionThumbprint: file.encryptionThumbprint, signingThumbprint: file.signingThumbprint, createdAt: file.createdAt };
}

async function readKeyFile(path: string): Promise<KeyFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`no key file at ${path}: run qg keygen first`, ExitCode.usage);
    throw error;
  }
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) process.stderr.write(`qg: warning: ${path} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}\n`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed) || parsed.format !== FORMAT || typeof parsed.backup !== 'string') throw new CliError(`${path} is not a qg key file`);
  return parsed as unknown as KeyFile;
}

async function importKeys(encryption: JWK, signing: JWK, path: string): Promise<CustodianKeys> {
  const subtle = globalThis.crypto.subtle;
  const curve = { namedCurve: 'P-256' } as const;
  try {
    const [encPriv, encPub, sigPriv, sigPub] = await Promise.all([
      subtle.importKey('jwk', minimalPrivate(encryption), { name: 'ECDH', ...curve }, false, ['deriveBits']),
      subtle.importKey('jwk', publicOf(encryption), { name: 'ECDH', ...curve }, true, []),
      subtle.importKey('jwk', minimalPrivate(signing), { name: 'ECDSA', ...curve }, false, ['sign']),
      subtle.importKey('jwk', publicOf(signing), { name: 'ECDSA', ...curve }, true, ['verify']),
    ]);
    return { encryption: { privateKey: encPriv, publicKey: encPub }, signing: { privateKey: sigPriv, publicKey: sigPub } };
  } catch {
    throw new CliError(`${path} holds keys that are not P-256`);
  }
}

function minimalPrivate(jwk: JsonWebKey): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d };
}

function publicOf(jwk: JsonWebKey): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
