import type { Pool, PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/** What a repository function runs on: the data source, or a transaction's entity manager. */
export type Db = DataSource | EntityManager;

/** A statement of the request path, run as a named prepared statement. */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

const declared = new Map<string, string>();

/**
 * Declares a statement that every request runs. PostgreSQL then parses and plans
 * it once per connection instead of at every call: planning the request view cost
 * more than running it. A name stands for one text only (node-postgres refuses a
 * name reused for another text on the same connection).
 */
export function prepared(name: string, text: string): PreparedStatement {
  if (declared.has(name) && declared.get(name) !== text) throw new Error(`prepared statement "${name}" declared twice`);
  declared.set(name, text);
  return { name, text };
}

/** Runs a prepared statement on the transaction's connection, or on any pooled one. */
export async function queryPrepared<T>(db: Db, statement: PreparedStatement, values: unknown[]): Promise<T[]> {
  const query = { name: statement.name, text: statement.text, values };
  if ('queryRunner' in db && db.queryRunner !== undefined) {
    // A released runner would take a new connection from the pool and never give it back.
    if (db.queryRunner.isReleased) throw new Error('the transaction of this entity manager has ended');
    const client = (await db.queryRunner.connect()) as PoolClient;
    return (await client.query(query)).rows as T[];
  }
  const dataSource = 'driver' in db ? db : db.dataSource;
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  return (await pool.query(query)).rows as T[];
}
