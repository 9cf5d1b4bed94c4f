import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from '../http/app-error.js';
import { argon2idHash, argon2idVerify } from './password-hasher.js';
import { PASSWORD_BUSY_RETRY_AFTER_SECONDS, PASSWORD_HASH_QUEUE, PASSWORD_HASHES_AT_ONCE, Semaphore, SemaphoreFullError } from '../http/load-caps.js';

/**
 * Every argon2id hash of this process goes through here: PASSWORD_HASHES_AT_ONCE at a
 * time, PASSWORD_HASH_QUEUE more waiting, and past that 503 BUSY with Retry-After. A
 * password spray then holds at most that many of libuv's threads (which webcrypto
 * signatures and verifications share) and cannot starve the approval path.
 */
const passwordHashes = new Semaphore(PASSWORD_HASHES_AT_ONCE, PASSWORD_HASH_QUEUE);

async function limited<T>(task: () => Promise<T>): Promise<T> {
  try {
    return await passwordHashes.run(task);
  } catch (error) {
    if (error instanceof SemaphoreFullError) {
      throw new AppError('BUSY', 'too many password checks are waiting; try again shortly', { retryAfterSeconds: PASSWORD_BUSY_RETRY_AFTER_SECONDS });
    }
    throw error;
  }
}

/** How many hashes run and wait now (tests, metrics). */
export function passwordHashLoad(): { active: number; queued: number } {
  return { active: passwordHashes.active, queued: passwordHashes.queued };
}

export function hashPassword(password: string): Promise<string> {
  return limited(() => argon2idHash(password));
}

/** False for a wrong password or a malformed hash; throws AppError BUSY when too many checks wait. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return limited(() => argon2idVerify(passwordHash, password));
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
