import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type TestDatabaseKind = 'embedded' | 'postgres';

/** Set by the global setup for its run, so that concurrent test runs on one machine never share a template. */
export const PGLITE_TEMPLATE_PATH = process.env['QG_TEST_PGLITE_TEMPLATE'] ?? join(tmpdir(), `quorumgate-test-pglite-${process.pid}.tar`);
/**
 * This run's tag (base-36 start time), set by the global setup: every database a run
 * creates on the real server is named `qg_test_r<tag>_…`, so a run cleans up only its
 * own and stale runs' databases, never those of another run going on beside it.
 */
export const TEST_RUN_TAG = process.env['QG_TEST_RUN_TAG'] ?? Date.now().toString(36);
/** How long a run may take before its leftovers count as stale. */
const STALE_RUN_MS = 3 * 60 * 60 * 1000;

/** A database name of this run. */
export function testDatabaseName(part: string): string {
  return `qg_test_r${TEST_RUN_TAG}_${part}`;
}

export const POSTGRES_TEMPLATE_DB = testDatabaseName('template');

/** Whether a `qg_test_` database is left from a run that ended or died long ago (or from before run tags). */
export function isStaleTestDatabase(name: string, now = Date.now()): boolean {
  const tag = /^qg_test_r([0-9a-z]+)_/.exec(name)?.[1];
  return tag === undefined || now - parseInt(tag, 36) > STALE_RUN_MS;
}

/** The real server's admin URL, or undefined; in CI a missing server is an error, not a skip. */
export function realDatabaseUrl(): string | undefined {
  const url = process.env['QG_TEST_DATABASE_URL'];
  if ((url === undefined || url === '') && process.env['CI'] === 'true') {
    throw new Error('QG_TEST_DATABASE_URL must be set in CI: the suite runs against a real PostgreSQL server too');
  }
  return url === '' ? undefined : url;
}

/** Every database kind the integration suites run against. */
export function testDatabaseKinds(): TestDatabaseKind[] {
  return realDatabaseUrl() === undefined ? ['embedded'] : ['embedded', 'postgres'];
}

/** Refuses to touch a database whose name does not say it is a test one. */
export function assertTestDatabaseName(name: string): void {
  if (!/^[a-z0-9_]*test[a-z0-9_]*$/.test(name)) {
    throw new Error(`refusing to use database "${name}": test databases must have "test" in their name`);
  }
}

export function withDatabase(url: string, database: string): string {
  assertTestDatabaseName(database);
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
