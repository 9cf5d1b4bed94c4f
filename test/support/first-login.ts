/**
 * The gateway makes every password an admin chose (a new user's, the bootstrap admin's)
 * be changed at first login (docs/adr/0013). That change itself is tested through HTTP
 * in passwords.e2e-spec.ts and the browser suite; every other suite starts from users
 * who have made it. For a gateway started in this process (`startTestGateway`) the
 * helpers mark it made in the database, which costs no argon2 hashes (each one is
 * seconds on a loaded test machine); for any other (a spawned replica) they make the
 * change through the API.
 */
type Db = { query(sql: string, params?: unknown[]): Promise<unknown> };

const databases = new Map<string, Db>();

export function registerGatewayDatabase(url: string, db: Db): void {
  databases.set(url, db);
}

export function forgetGatewayDatabase(url: string): void {
  databases.delete(url);
}

/** True when the gateway at `url` is known here and the user's first-login change is now recorded as made. */
export async function markFirstLoginChangeMade(url: string, username: string): Promise<boolean> {
  const db = databases.get(url);
  if (db === undefined) return false;
  await db.query('UPDATE users SET must_change_password = false WHERE username = $1', [username]);
  return true;
}
