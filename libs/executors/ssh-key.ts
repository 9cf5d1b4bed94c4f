import { createHash } from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';
import { ExecutorError } from './executor-error.js';

const PRIVATE_KEY_BLOCK = /-----BEGIN (OPENSSH|RSA|EC|DSA|ENCRYPTED)? ?PRIVATE KEY-----/;

function invalid(message: string): ExecutorError {
  return new ExecutorError('SECRET_INVALID', `ssh-key: ${message}`);
}

/** `SHA256:<base64 without padding>` of a raw SSH public key blob, as `ssh-keygen -lf` prints it. */
export function sshFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Parses an `ssh-key` secret. Enforces: a PEM or OpenSSH private key block
 * (not a public key, not a PuTTY file), unencrypted (the gateway has no
 * passphrase to give), of a type ssh2 can use (Ed25519, ECDSA, RSA). Messages
 * never quote the key.
 *
 * @example
 * const key = parseSshPrivateKey(secret); // key.type === 'ssh-ed25519'
 */
export function parseSshPrivateKey(secret: Buffer): ParsedKey {
  if (!Buffer.isBuffer(secret)) throw new TypeError('secret must be a Buffer');
  if (secret.byteLength === 0) throw invalid('the secret is empty');
  if (secret.byteLength > 64 * 1024) throw invalid('the key must be at most 64 KiB');
  // Read the header in place: no string copy of the whole key.
  const head = secret.subarray(0, Math.min(secret.byteLength, 256)).toString('latin1');
  if (!PRIVATE_KEY_BLOCK.test(head)) throw invalid('not a PEM or OpenSSH private key ("-----BEGIN … PRIVATE KEY-----")');
  let parsed: ParsedKey | ParsedKey[] | Error;
  try {
    parsed = ssh2.utils.parseKey(secret);
  } catch {
    throw invalid('the private key does not parse');
  }
  if (parsed instanceof Error) {
    throw invalid(/encrypted|passphrase/i.test(parsed.message) ? 'the private key is encrypted: store it without a passphrase' : 'the private key does not parse');
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || !key.isPrivateKey()) throw invalid('not a private key');
  return key;
}

/**
 * What may be published about an `ssh-key`: the public key in
 * `authorized_keys` form (without the comment) and its fingerprint.
 */
export function sshPublicInfo(key: ParsedKey): { publicKey: string; fingerprint: string } {
  const blob = key.getPublicSSH();
  return { publicKey: `${key.type} ${blob.toString('base64')}`, fingerprint: sshFingerprint(blob) };
}
