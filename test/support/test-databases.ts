import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type TestDatabaseKind = 'embedded' | 'postgres';

/** Set by the global setup for its run, so that concurrent test runs on one machine never share a template. */
export const PGLITE_TEMPLATE_PATH = process.env['QG_TEST_PGLITE_TEMPLATE'] ?? join(tmpdir(), `quorumgate-test-pglite-${process.pid}.tar`);
export const POSTGRES_TEMPLATE_DB = 'qg_test_template';

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
