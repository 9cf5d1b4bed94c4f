// Migrates once per test run: an embedded database dumped to a file, and a template
// database on the real server. Plain JS importing the compiled gateway (`npm test`
// builds first), because Jest loads global setup outside its ESM module mapping.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const DIST = new URL('../dist/', import.meta.url);

export default async function globalSetup() {
  const compiled = new URL('apps/gateway/src/persistence/database.js', DIST);
  if (!existsSync(compiled)) throw new Error('the gateway is not compiled: run `npm run build:server` (npm test does it for you)');
  const { openDatabase } = await import(compiled.href);
  // One template per run: workers inherit this variable.
  process.env.QG_TEST_PGLITE_TEMPLATE = join(tmpdir(), `quorumgate-test-pglite-${process.pid}-${Date.now()}.tar`);
  process.env.QG_TEST_RUN_TAG = Date.now().toString(36);
  const { PGLITE_TEMPLATE_PATH, POSTGRES_TEMPLATE_DB, isStaleTestDatabase, realDatabaseUrl, withDatabase } = await import(new URL('test/support/test-databases.js', DIST).href);

  const embedded = await openDatabase({ inMemory: true });
  const dump = await embedded.dump();
  await embedded.close();
  await writeFile(PGLITE_TEMPLATE_PATH, Buffer.from(await dump.arrayBuffer()));

  const adminUrl = realDatabaseUrl();
  if (adminUrl === undefined) {
    process.stdout.write('\nquorumgate tests: embedded PostgreSQL only (set QG_TEST_DATABASE_URL to add a real server)\n');
    return;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`QG_TEST_DATABASE_URL=${adminUrl} does not answer: ${error.message}`);
  }
  try {
    const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE 'qg\\_test\\_%'`);
    // Another run may be going on beside this one: drop only what stale runs left.
    for (const { datname } of rows) if (isStaleTestDatabase(datname)) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${POSTGRES_TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const template = await openDatabase({ url: withDatabase(adminUrl, POSTGRES_TEMPLATE_DB) }, 2);
  await template.close();
}
