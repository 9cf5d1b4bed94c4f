import type { EntityManager } from 'typeorm';
import type { DirectoryEntry, PrincipalKind } from '#libs/contracts';
import { cursorRefused, parseCursorFields } from '../http/cursor.js';

type Db = Pick<EntityManager, 'query'>;

/** Where a directory page ended: the sort key and id of its last entry. */
export interface DirectoryPosition {
  sort: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeDirectoryCursor(at: DirectoryPosition): string {
  return Buffer.from(JSON.stringify({ l: 'd', s: at.sort, id: at.id }), 'utf8').toString('base64url');
}

/** A cursor this list gave out, or a 400: it grants nothing, every page is filtered alike. */
export function decodeDirectoryCursor(text: string): DirectoryPosition {
  const f = parseCursorFields(text, 400);
  if (f['l'] !== 'd' || typeof f['s'] !== 'string' || f['s'].length > 256 || typeof f['id'] !== 'string' || !UUID.test(f['id'])) throw cursorRefused();
  return { sort: f['s'], id: f['id'] };
}

/** `text` as a literal inside an ILIKE pattern. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

interface DirectoryRow extends Omit<DirectoryEntry, 'username'> {
  username: string | null;
  sort: string;
}

/**
 * Users and service accounts whose name (or a user's username) contains `q`, case
 * insensitively, ordered by name then id, `limit + 1` rows so the caller knows whether
 * a page follows.
 */
export async function searchDirectory(
  db: Db,
  query: { q: string; kind: PrincipalKind | undefined; after: DirectoryPosition | undefined; limit: number },
): Promise<{ entries: DirectoryEntry[]; last: DirectoryPosition | undefined; more: boolean }> {
  const pattern = `%${likeLiteral(query.q)}%`;
  const rows: DirectoryRow[] = await db.query(
    `SELECT kind, id, name, username, roles, active, sort FROM (
       SELECT 'user' AS kind, id::text AS id, display_name AS name, username, roles, disabled_at IS NULL AS active, lower(display_name) AS sort FROM users
       UNION ALL
       SELECT 'service_account', id::text, name, NULL, roles, revoked_at IS NULL, lower(name) FROM service_accounts
     ) d
     WHERE (name ILIKE $1 OR username ILIKE $1)
       AND ($2::text IS NULL OR kind = $2)
       AND ($3::text IS NULL OR (sort, id) > ($3::text, $4::text))
     ORDER BY sort, id
     LIMIT $5`,
    [pattern, query.kind ?? null, query.after?.sort ?? null, query.after?.id ?? null, query.limit + 1],
  );
  const page = rows.slice(0, query.limit);
  const lastRow = page[page.length - 1];
  return {
    entries: page.map((r) => ({ kind: r.kind, id: r.id, name: r.name, ...(r.username !== null ? { username: r.username } : {}), roles: r.roles, active: r.active })),
    last: lastRow === undefined ? undefined : { sort: lastRow.sort, id: lastRow.id },
    more: rows.length > query.limit,
  };
}
