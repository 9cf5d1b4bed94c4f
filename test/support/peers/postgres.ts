import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { testDatabaseName, withDatabase } from '../test-databases.js';
import { startScramFront, type ScramFront } from './scram-front.js';

export interface SqlPeer {
  /** Where the executor connects: the server itself, or the SCRAM front before it. */
  host: string;
  port: number;
  database: string;
  role: string;
  password: string;
  /**
   * Who checks the password: `server` when the server's pg_hba asks for one,
   * `scram-front` when it trusts loopback and the front does the SCRAM exchange.
   */
  checkedBy: 'server' | 'scram-front';
  front: ScramFront | undefined;
  /** A query on the peer database as the administrator (to look at what a statement did). */
  admin(sql: string, values?: unknown[]): Promise<any[]>;
  close(): Promise<void>;
}

async function withClient<T>(config: pg.ClientConfig, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Whether the server lets `role` in with a wrong password (pg_hba `trust`). */
async function trustsWrongPassword(url: URL, database: string, role: string): Promise<boolean> {
  try {
    await withClient({ host: url.hostname, port: Number(url.port || 5432), database, user: role, password: 'certainly-not-the-password' }, async () => undefined);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '28P01') return false;
    throw error;
  }
}

/**
 * A database and a dedicated login role on the real server of
 * QG_TEST_DATABASE_URL, the role's password being the credential: table
 * `inventory` (3 rows, SELECT/INSERT/UPDATE granted) and `numbers` (1500 rows,
 * SELECT). The password is checked by the server when its pg_hba asks for it,
 * else by a SCRAM front (see scram-front.ts). `close()` drops both.
 */
export async function startSqlPeer(adminUrl: string): Promise<SqlPeer> {
  const suffix = randomBytes(5).toString('hex');
  const role = `qg_test_role_${suffix}`;
  const database = testDatabaseName(`sqlpeer_${suffix}`);
  const password = `pw-${randomBytes(18).toString('base64url')}`;
  const url = new URL(adminUrl);
  const peerUrl = withDatabase(adminUrl, database);
  await withClient({ connectionString: adminUrl }, async (admin) => {
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD ${admin.escapeLiteral(password)}`);
    await admin.query(`CREATE DATABASE ${database}`);
  });
  await withClient({ connectionString: peerUrl }, async (admin) => {
    await admin.query(`CREATE TABLE inventory (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), tags jsonb, big bigint, added date)`);
    await admin.query(`INSERT INTO inventory VALUES (1, 'bolt', 0.25, '["m4"]', 9007199254740993, '2024-01-02'), (2, 'nut', 0.10, null, null, null), (3, 'washer', null, '{"d": 4}', -1, '2024-03-04')`);
    await admin.query(`CREATE TABLE numbers AS SELECT n FROM generate_series(1, 1500) AS n`);
    await admin.query(`GRANT CONNECT ON DATABASE ${database} TO ${role}`);
    await admin.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await admin.query(`GRANT SELECT, INSERT, UPDATE ON inventory TO ${role}`);
    await admin.query(`GRANT SELECT ON numbers TO ${role}`);
  });
  const trust = await trustsWrongPassword(url, database, role);
  const front = trust ? await startScramFront({ host: url.hostname, port: Number(url.port || 5432) }, { user: role, password }) : undefined;
  return {
    host: front === undefined ? url.hostname : '127.0.0.1',
    port: front === undefined ? Number(url.port || 5432) : front.port,
    database,
    role,
    password,
    checkedBy: front === undefined ? 'server' : 'scram-front',
    front,
    admin: (sql, values) => withClient({ connectionString: peerUrl }, async (c) => (await c.query(sql, values)).rows),
    close: async () => {
      await front?.close();
      await withClient({ connectionString: adminUrl }, async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await admin.query(`DROP ROLE IF EXISTS ${role}`);
      });
    },
  };
}
