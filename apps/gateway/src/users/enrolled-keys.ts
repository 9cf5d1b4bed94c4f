import { calculateJwkThumbprint, type JWK } from 'jose';
import type { GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { rowMac, rowMacChecks } from '../keys/mac-key.js';
import type { Db } from '../persistence/prepared.js';
import { findUserById, type KeyCheckedUserRow, type UserRow } from './accounts.repository.js';

type KeyCheckContext = Pick<GatewayContext, 'masterKey' | 'log'>;

/** A user's public keys as enrolled: the members the MAC covers, exactly as stored. */
export interface EnrolledPublicKeys {
  encryptionKey: JWK;
  signingKey: JWK;
}

/** The MAC stored with a user's keys at enrolment, over JCS `{userId, encryptionKey, signingKey}`. */
export function enrolledKeysMac(masterKey: Uint8Array, userId: string, keys: EnrolledPublicKeys): string {
  return rowMac(masterKey, 'enrolled-keys', { userId, encryptionKey: keys.encryptionKey, signingKey: keys.signingKey });
}

/** Names nobody: the row was changed by someone without the master key, not by its user. */
export class EnrolledKeysIntegrityError extends AppError {
  constructor() {
    super(
      'KEYS_NOT_ENROLLED',
      'enrolled keys failed their integrity check (changed in the database, or enrolled before keys carried a MAC), so nothing was sealed to them or verified with them: ' +
        'each custodian concerned must enrol their keys again (PUT /api/v1/me/keys); the server log names the rows',
    );
    this.name = 'EnrolledKeysIntegrityError';
  }
}

/**
 * Enforces spec §2 item 11 for custodians' enrolled keys: a key is used (a share or a
 * secret sealed to it, a statement verified with it) only once the MAC stored at
 * enrolment checks over `{userId, encryptionKey, signingKey}` as read. Returns the
 * keys, or null when none are enrolled. A failed or missing MAC logs an error naming
 * the row, and throws EnrolledKeysIntegrityError, whose message names nobody.
 */
export function checkedEnrolledKeys(ctx: KeyCheckContext, user: UserRow): EnrolledPublicKeys | null {
  if (user.encryptionKey === null && user.signingKey === null) return null;
  const keys = { encryptionKey: user.encryptionKey, signingKey: user.signingKey };
  if (keys.encryptionKey === null || keys.signingKey === null || !rowMacChecks(ctx.masterKey, 'enrolled-keys', { userId: user.id, ...keys }, user.keysMac)) {
    ctx.log.error(
      { userId: user.id, macPresent: user.keysMac !== null },
      'enrolled keys fail their MAC: the users row was changed by a database writer without the master key, or its keys were enrolled before keys carried a MAC; they are not used until the user enrols again',
    );
    throw new EnrolledKeysIntegrityError();
  }
  return { encryptionKey: keys.encryptionKey, signingKey: keys.signingKey };
}

/**
 * The user with its enrolled keys only if they pass `checkedEnrolledKeys`; keys that
 * fail are left out (null, the failure logged), so every use fails closed as if the
 * user had never enrolled. Only such a row gives a principal its signing key.
 */
export function withCheckedKeys(ctx: KeyCheckContext, user: UserRow): KeyCheckedUserRow {
  try {
    checkedEnrolledKeys(ctx, user);
    return { ...user, keysChecked: true };
  } catch (error) {
    if (!(error instanceof EnrolledKeysIntegrityError)) throw error;
    return { ...user, encryptionKey: null, encryptionKid: null, signingKey: null, signingKid: null, keysMac: null, keysChecked: true };
  }
}

/** `findUserById`, with the keys through `withCheckedKeys`: what anything that uses a user's keys reads. */
export async function findUserWithCheckedKeys(ctx: KeyCheckContext & { dataSource: Db }, id: string): Promise<KeyCheckedUserRow | undefined> {
  const user = await findUserById(ctx.dataSource, id);
  return user === undefined ? undefined : withCheckedKeys(ctx, user);
}

/**
 * The thumbprint of the user's enrolled encryption key, computed from the key itself
 * once its MAC checks (never read from the `encryption_kid` column); null when none is
 * enrolled or it fails the check. What a re-share names as the custodian's `kid`.
 */
export async function checkedEncryptionKid(ctx: KeyCheckContext, user: UserRow): Promise<string | null> {
  if (user.encryptionKey === null) return null;
  try {
    const keys = checkedEnrolledKeys(ctx, user);
    if (keys === null) return null;
    const { kty, crv, x, y } = keys.encryptionKey;
    return await calculateJwkThumbprint({ kty, crv, x, y }, 'sha256');
  } catch (error) {
    if (error instanceof EnrolledKeysIntegrityError) return null;
    throw error;
  }
}
