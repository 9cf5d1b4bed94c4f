import type { EntityManager } from 'typeorm';
import type { JWK } from 'jose';
import type { Principal, Role } from '../auth/principal.js';
import { prepared, queryPrepared, type Db as PreparableDb } from '../persistence/prepared.js';

export interface UserRow {
  id: string;
  username: string;
  displayName: string;
  /** Null for a single sign-on user, who has no password. */
  passwordHash: string | null;
  roles: Role[];
  groups: string[];
  encryptionKey: JWK | null;
  encryptionKid: string | null;
  signingKey: JWK | null;
  signingKid: string | null;
  /** MAC over the enrolled keys (users/enrolled-keys.ts); null when none are enrolled, or enrolled before keys carried one. */
  keysMac: string | null;
  keysEnrolledAt: Date | null;
  createdAt: Date;
  disabledAt: Date | null;
  /** Moved on by logout and a password change: tokens issued under an earlier epoch are refused. */
  sessionEpoch: number;
  /** Set while the password is one an admin chose (a new user's, a reset one): only /me, the password change and logout answer (docs/adr/0013). */
  mustChangePassword: boolean;
}

/** A row whose enrolled keys passed their MAC, or were left out (null) because they failed it (users/enrolled-keys.ts). */
export type KeyCheckedUserRow = UserRow & { readonly keysChecked: true };

function keysChecked(user: UserRow): user is KeyCheckedUserRow {
  return (user as Partial<KeyCheckedUserRow>).keysChecked === true;
}

const USER_COLUMNS = `id, username, display_name AS "displayName", password_hash AS "passwordHash", roles, groups,
  encryption_key AS "encryptionKey", encryption_kid AS "encryptionKid", signing_key AS "signingKey",
  signing_kid AS "signingKid", keys_mac AS "keysMac", keys_enrolled_at AS "keysEnrolledAt", created_at AS "createdAt", disabled_at AS "disabledAt",
  session_epoch AS "sessionEpoch", must_change_password AS "mustChangePassword"`;

type Db = Pick<EntityManager, 'query'>;

export async function findUserByUsername(db: Db, username: string): Promise<UserRow | undefined> {
  const rows: UserRow[] = await db.query(`SELECT ${USER_COLUMNS} FROM users WHERE username = $1`, [username]);
  return rows[0];
}

export async function findUserById(db: PreparableDb, id: string): Promise<UserRow | undefined> {
  if (!isUuid(id)) return undefined;
  return (await queryPrepared<UserRow>(db, USER_BY_ID, [id]))[0];
}

/** Every authenticated call of a user runs it. */
const USER_BY_ID = prepared('qg_user_by_id', `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`);

export async function findUsersByIds(db: Db, ids: string[]): Promise<UserRow[]> {
  if (ids.some((id) => !isUuid(id))) return [];
  return db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = ANY($1::uuid[])`, [ids]);
}

export async function listUsers(db: Db): Promise<UserRow[]> {
  return db.query(`SELECT ${USER_COLUMNS} FROM users ORDER BY username`);
}

export async function countUsers(db: Db): Promise<number> {
  const rows: { n: string }[] = await db.query('SELECT count(*) AS n FROM users');
  return Number(rows[0]?.n ?? 0);
}

export async function insertUser(
  db: Db,
  user: { username: string; displayName: string; passwordHash: string; roles: Role[]; groups: string[] },
): Promise<UserRow | undefined> {
  // Whoever chose this password is not its owner: the owner replaces it at first login.
  const rows: UserRow[] = await db.query(
    `INSERT INTO users (username, display_name, password_hash, roles, groups, must_change_password) VALUES ($1, $2, $3, $4, $5, true)
     ON CONFLICT (username) DO NOTHING RETURNING ${USER_COLUMNS}`,
    [user.username, user.displayName, user.passwordHash, user.roles, user.groups],
  );
  return rows[0];
}

export async function updateUserKeys(
  db: Db,
  userId: string,
  keys: { encryptionKey: JWK; encryptionKid: string; signingKey: JWK; signingKid: string; keysMac: string },
): Promise<void> {
  await db.query(
    `UPDATE users SET encryption_key = $2, encryption_kid = $3, signing_key = $4, signing_kid = $5, keys_mac = $6, keys_enrolled_at = now() WHERE id = $1`,
    [userId, keys.encryptionKey, keys.encryptionKid, keys.signingKey, keys.signingKid, keys.keysMac],
  );
}

export interface ServiceAccountRow {
  id: string;
  name: string;
  roles: Role[];
  /** the person answerable for the account; null only for accounts from before owners existed with no user creator */
  ownerId: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

const SERVICE_ACCOUNT_COLUMNS = `id, name, roles, owner_id AS "ownerId", created_at AS "createdAt", revoked_at AS "revokedAt"`;

export async function insertServiceAccount(
  db: Db,
  account: { name: string; roles: Role[]; tokenHmac: string; createdBy: string | null; ownerId: string },
): Promise<ServiceAccountRow | undefined> {
  const rows: ServiceAccountRow[] = await db.query(
    `INSERT INTO service_accounts (name, roles, token_hmac, created_by, owner_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (name) DO NOTHING RETURNING ${SERVICE_ACCOUNT_COLUMNS}`,
    [account.name, account.roles, account.tokenHmac, account.createdBy, account.ownerId],
  );
  return rows[0];
}

export async function listServiceAccounts(db: Db): Promise<ServiceAccountRow[]> {
  return db.query(`SELECT ${SERVICE_ACCOUNT_COLUMNS} FROM service_accounts ORDER BY name`);
}

/** Revokes an active account; undefined when there is none by that id (or it was revoked already). */
export async function revokeServiceAccount(db: Db, id: string): Promise<ServiceAccountRow | undefined> {
  if (!isUuid(id)) return undefined;
  // Wrapped in a SELECT: TypeORM answers a bare UPDATE … RETURNING with [rows, count].
  const rows: ServiceAccountRow[] = await db.query(
    `WITH revoked AS (UPDATE service_accounts SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING *)
     SELECT ${SERVICE_ACCOUNT_COLUMNS} FROM revoked`,
    [id],
  );
  return rows[0];
}

/** The row, locked until the transaction ends. */
export async function lockUser(db: Db, id: string): Promise<UserRow | undefined> {
  if (!isUuid(id)) return undefined;
  const rows: UserRow[] = await db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0];
}

/** Locks the enabled admins' rows, so that two admins cannot each remove the other at once. */
export async function lockEnabledAdminIds(db: Db): Promise<string[]> {
  const rows: { id: string }[] = await db.query(`SELECT id FROM users WHERE 'admin' = ANY(roles) AND disabled_at IS NULL ORDER BY id FOR UPDATE`);
  return rows.map((r) => r.id);
}

export async function updateUserAccess(db: Db, id: string, change: { roles: Role[]; groups: string[]; disabled: boolean }): Promise<UserRow> {
  const rows: UserRow[] = await db.query(
    `WITH updated AS (UPDATE users SET roles = $2, groups = $3,
       disabled_at = CASE WHEN $4::boolean THEN coalesce(disabled_at, now()) ELSE NULL END
     WHERE id = $1 RETURNING *)
     SELECT ${USER_COLUMNS} FROM updated`,
    [id, change.roles, change.groups, change.disabled],
  );
  return rows[0]!;
}

export async function findServiceAccountByTokenHmac(db: PreparableDb, tokenHmac: string): Promise<ServiceAccountRow | undefined> {
  return (await queryPrepared<ServiceAccountRow>(db, SERVICE_ACCOUNT_BY_TOKEN, [tokenHmac]))[0];
}

/** Every authenticated call of a service account runs it. */
const SERVICE_ACCOUNT_BY_TOKEN = prepared('qg_service_account_by_token', `SELECT ${SERVICE_ACCOUNT_COLUMNS} FROM service_accounts WHERE token_hmac = $1`);

/**
 * The principal as it stands now: null once the user is disabled or the service account revoked.
 * Its signing key is null: the keys are not MAC-checked here (see `userPrincipal`).
 */
export async function currentPrincipal(db: PreparableDb, principal: Principal): Promise<Principal | null> {
  if (principal.kind === 'user') {
    return userPrincipal(await findUserById(db, principal.id), principal.sessionEpoch);
  }
  const rows: ServiceAccountRow[] = await db.query(`SELECT ${SERVICE_ACCOUNT_COLUMNS} FROM service_accounts WHERE id = $1`, [principal.id]);
  return serviceAccountPrincipal(rows[0]);
}

/**
 * Who may act as this user: nobody once the user is gone or disabled. The principal
 * carries the signing key its approvals are verified with only from a row whose keys
 * passed their MAC (`findUserWithCheckedKeys`); from any other row it carries none,
 * so a signing key swapped in the database verifies nothing (spec §2 item 11).
 * `sessionEpoch`: the epoch the caller's access token was issued under, refused
 * once logout or a password change moved the user's epoch on.
 */
export function userPrincipal(user: UserRow | undefined, sessionEpoch?: number): Principal | null {
  if (user === undefined || user.disabledAt !== null) return null;
  // A token issued before the last logout or password change speaks for nobody.
  if (sessionEpoch !== undefined && sessionEpoch !== user.sessionEpoch) return null;
  const signingKey = keysChecked(user) ? user.signingKey : null;
  return {
    kind: 'user',
    id: user.id,
    name: user.username,
    roles: user.roles,
    groups: user.groups,
    signingKey,
    ...(sessionEpoch !== undefined ? { sessionEpoch } : {}),
    ...(user.mustChangePassword ? { mustChangePassword: true } : {}),
  };
}

/** Who may act as this service account: nobody once it is gone or revoked. */
export function serviceAccountPrincipal(account: ServiceAccountRow | undefined): Principal | null {
  if (account === undefined || account.revokedAt !== null) return null;
  return { kind: 'service_account', id: account.id, name: account.name, roles: account.roles, groups: [], ownerId: account.ownerId };
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
