import type { EntityManager } from 'typeorm';
import type { Role } from '../auth/principal.js';

type Db = Pick<EntityManager, 'query'>;

/** The user linked to this identity at this issuer, locked until the transaction ends. */
export async function lockUserIdByOidcIdentity(db: Db, issuer: string, subject: string): Promise<string | undefined> {
  const rows: { id: string }[] = await db.query('SELECT id FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2 FOR UPDATE', [issuer, subject]);
  return rows[0]?.id;
}

/** Creates a single sign-on user (no password); undefined when the username is taken. */
export async function insertOidcUser(
  db: Db,
  user: { username: string; displayName: string; email: string | null; roles: Role[]; groups: string[]; issuer: string; subject: string },
): Promise<string | undefined> {
  const rows: { id: string }[] = await db.query(
    `INSERT INTO users (username, display_name, password_hash, email, roles, groups, oidc_issuer, oidc_subject)
     VALUES ($1, $2, NULL, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING RETURNING id`,
    [user.username, user.displayName, user.email, user.roles, user.groups, user.issuer, user.subject],
  );
  return rows[0]?.id;
}

/** Refreshes what the ID token says at each login; the username stays the one the user was created with. */
export async function refreshOidcUser(db: Db, id: string, user: { displayName: string; email: string | null; roles: Role[]; groups: string[] }): Promise<void> {
  await db.query('UPDATE users SET display_name = $2, email = $3, roles = $4, groups = $5 WHERE id = $1', [id, user.displayName, user.email, user.roles, user.groups]);
}
