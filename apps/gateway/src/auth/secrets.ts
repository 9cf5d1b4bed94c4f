import { hash, verify, argon2id } from 'argon2';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';

export function hashPassword(password: string): Promise<string> {
  return hash(password, { type: argon2id });
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A hash to compare against when the user does not exist, so timing does not reveal usernames. */
export const DUMMY_PASSWORD_HASH = await hashPassword(randomBytes(16).toString('hex'));

export const SERVICE_TOKEN_PREFIX = 'qgs_';

export function generateServiceToken(): string {
  return SERVICE_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Service tokens are stored as an HMAC under a key derived from the master key:
 * a stolen table alone cannot be used to test guesses offline.
 */
export function serviceTokenHmac(masterKey: Uint8Array, token: string): string {
  return createHmac('sha256', serviceTokenKey(masterKey)).update(token).digest('hex');
}

const derivedKeys = new WeakMap<Uint8Array, Buffer>();

function serviceTokenKey(masterKey: Uint8Array): Buffer {
  let key = derivedKeys.get(masterKey);
  if (key === undefined) {
    key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'quorumgate service-token hmac', 32));
    derivedKeys.set(masterKey, key);
  }
  return key;
}
