import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../../../migrations/index.js';

export interface DatabaseTarget {
  /** An external PostgreSQL server. */
  url?: string;
  /** The embedded PostgreSQL's directory (ignored when `url` or `pgliteDump` is set). */
  dataDir?: string;
  /** Tests: an in-memory embedded database loaded from a dump (starts in < 1 s). */
  pgliteDump?: Blob;
  /** Tests: a fresh in-memory embedded database. */
  inMemory?: boolean;
}

export interface Database {
  dataSource: DataSource;
  kind: 'embedded' | 'postgres';
  /** The embedded database runs one connection; an external server gets a pool. */
  close(): Promise<void>;
  /** Embedded only: the whole database as a tarball, loadable through `pgliteDump`. */
  dump?: () => Promise<Blob>;
}

/** Opens the database and brings its schema up to date. */
export async function openDatabase(target: DatabaseTarget, poolSize = 10): Promise<Database> {
  if (target.url !== undefined) {
    const dataSource = new DataSource({
      type: 'postgres',
      url: target.url,
      migrations: MIGRATIONS,
      synchronize: false,
      extra: { max: Math.max(poolSize, 2) },
    });
    await initialize(dataSource, true);
    return { dataSource, kind: 'postgres', close: () => destroy(dataSource) };
  }
  const pglite = await openPglite(target);
  const pgConfig = createPgConfig(pglite);
  const dataSource = new DataSource({
    type: 'postgres',
    host: pgConfig.host,
    username: pgConfig.user,
    password: pgConfig.password,
    database: pgConfig.database,
    migrations: MIGRATIONS,
    synchronize: false,
    // PGlite is one single-threaded backend: one pooled client, never recycled.
    extra: { connection: pgConfig.connection, max: 1, idleTimeoutMillis: 0 },
  });
  await initialize(dataSource, false);
  return {
    dataSource,
    kind: 'embedded',
    close: async () => {
      await destroy(dataSource);
      await pglite.close();
    },
    dump: () => pglite.dumpDataDir('none'),
  };
}

async function openPglite(target: DatabaseTarget): Promise<PGlite> {
  if (target.pgliteDump !== undefined) {
    const pglite = new PGlite({ loadDataDir: target.pgliteDump });
    await pglite.waitReady;
    return pglite;
  }
  if (target.inMemory === true) {
    const pglite = new PGlite('memory://');
    await pglite.waitReady;
    return pglite;
  }
  const dir = join(target.dataDir ?? './data', 'pg');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pglite = new PGlite(dir);
  await pglite.waitReady;
  return pglite;
}

const MIGRATION_LOCK = 727274;

async function initialize(dataSource: DataSource, concurrentReplicas: boolean): Promise<void> {
  await dataSource.initialize();
  if (!concurrentReplicas) {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  // Several replicas may start together: one runs the migrations, the others wait.
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    await lock.release();
  }
}

/** Nest's TypeOrmModule may have destroyed it already on application shutdown. */
async function destroy(dataSource: DataSource): Promise<void> {
  if (dataSource.isInitialized) await dataSource.destroy();
}
