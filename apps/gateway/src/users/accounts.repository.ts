import type { EntityManager } from 'typeorm';
import type { JWK } from 'jose';
import type { Principal, Role } from '../auth/principal.js';
import { prepared, queryPrepared, type Db as PreparableDb } from '../persistence/prepared.js';

export interface UserRow {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string;
  roles: Role[];
  groups: string[];
  encryptionKey: JWK | null;
  encryptionKid: string | null;
  signingKey: JWK | null;
  signingKid: string | null;
  keysEnrolledAt: Date | null;
  createdAt: Date;
}

const USER_COLUMNS = `id, username, display_name AS "displayName", password_hash AS "passwordHash", roles, groups,
  encryption_key AS "encryptionKey", encryption_kid AS "encryptionKid", signing_key AS "signingKey",
  signing_kid AS "signingKid", keys_enrolled_at AS "keysEnrolledAt", created_at AS "createdAt"`;

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
  const rows: UserRow[] = await db.query(
    `INSERT INTO users (username, display_name, password_hash, roles, groups) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (username) DO NOTHING RETURNING ${USER_COLUMNS}`,
    [user.username, user.displayName, user.passwordHash, user.roles, user.groups],
  );
  return rows[0];
}

export async function updateUserKeys(
  db: Db,
  userId: string,
  keys: { encryptionKey: JWK; encryptionKid: string; signingKey: JWK; signingKid: string },
): Promise<void> {
  await db.query(
    `UPDATE users SET encryption_key = $2, encryption_kid = $3, signing_key = $4, signing_kid = $5, keys_enrolled_at = now() WHERE id = $1`,
    [userId, keys.encryptionKey, keys.encryptionKid, keys.signingKey, keys.signingKid],
  );
}

export interface ServiceAccountRow {
  id: string;
  name: string;
  roles: Role[];
  createdAt: Date;
}

export async function insertServiceAccount(
  db: Db,
  account: { name: string; roles: Role[]; tokenHmac: string; createdBy: string | null },
): Promise<ServiceAccountRow | undefined> {
  const rows: ServiceAccountRow[] = await db.query(
    `INSERT INTO service_accounts (name, roles, token_hmac, created_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (name) DO NOTHING RETURNING id, name, roles, created_at AS "createdAt"`,
    [account.name, account.roles, account.tokenHmac, account.createdBy],
  );
  return rows[0];
}

export async function listServiceAccounts(db: Db): Promise<ServiceAccountRow[]> {
  return db.query(`SELECT id, name, roles, created_at AS "createdAt" FROM service_accounts ORDER BY name`);
}

export async function findServiceAccountByTokenHmac(db: PreparableDb, tokenHmac: string): Promise<ServiceAccountRow | undefined> {
  return (await queryPrepared<ServiceAccountRow>(db, SERVICE_ACCOUNT_BY_TOKEN, [tokenHmac]))[0];
}

/** Every authenticated call of a service account runs it. */
const SERVICE_ACCOUNT_BY_TOKEN = prepared('qg_service_account_by_token', `SELECT id, name, roles, created_at AS "createdAt" FROM service_accounts WHERE token_hmac = $1`);

export function userPrincipal(user: UserRow): Principal {
  return { kind: 'user', id: user.id, name: user.username, roles: user.roles, groups: user.groups, signingKey: user.signingKey };
}

export function serviceAccountPrincipal(account: ServiceAccountRow): Principal {
  return { kind: 'service_account', id: account.id, name: account.name, roles: account.roles, groups: [] };
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
