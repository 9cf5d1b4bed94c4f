import { rm } from 'node:fs/promises';
import pg from 'pg';

export default async function globalTeardown() {
  if (process.env.QG_TEST_PGLITE_TEMPLATE) await rm(process.env.QG_TEST_PGLITE_TEMPLATE, { force: true });
  const adminUrl = process.env.QG_TEST_DATABASE_URL;
  const tag = process.env.QG_TEST_RUN_TAG;
  if (!adminUrl || !tag) return;
  // This run's template and whatever a crashed test file left behind.
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [`qg_test_r${tag}_`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
