import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { DestinationStream } from 'pino';
import type { GatewayConfig } from '../../apps/gateway/src/config/config.js';
import { startGateway, type RunningGateway } from '../../apps/gateway/src/gateway.js';
import { forgetGatewayDatabase, markFirstLoginChangeMade, registerGatewayDatabase } from './first-login.js';
import { PGLITE_TEMPLATE_PATH, POSTGRES_TEMPLATE_DB, realDatabaseUrl, testDatabaseName, withDatabase, type TestDatabaseKind } from './test-databases.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests-only';

export interface TestGateway extends RunningGateway {
  kind: TestDatabaseKind;
  /** Every JSON log line the gateway wrote. */
  logs: string[];
  /** Only for the real server: the URL of this gateway's own database. */
  databaseUrl: string | undefined;
}

let templateDump: Blob | undefined;

async function pgliteTemplate(): Promise<Blob> {
  templateDump ??= new Blob([await readFile(PGLITE_TEMPLATE_PATH)]);
  return templateDump;
}

export function logCollector(): { lines: string[]; destination: DestinationStream } {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

/** A fresh, migrated database of the given kind. */
export async function createTestDatabase(kind: TestDatabaseKind): Promise<{ databaseUrl?: string; pgliteDump?: Blob; drop(): Promise<void> }> {
  if (kind === 'embedded') return { pgliteDump: await pgliteTemplate(), drop: async () => {} };
  const adminUrl = realDatabaseUrl();
  if (adminUrl === undefined) throw new Error('QG_TEST_DATABASE_URL is not set');
  const name = testDatabaseName(randomBytes(6).toString('hex'));
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${POSTGRES_TEMPLATE_DB}`));
  return {
    databaseUrl: withDatabase(adminUrl, name),
    drop: () => withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function testConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: undefined,
    dataDir: './data-unused-in-tests',
    masterKey: randomBytes(32),
    bootstrapAdminPassword: ADMIN_PASSWORD,
    logLevel: 'info',
    operationTimeoutSeconds: 60,
    trustProxy: false,
    publicUrl: undefined,
    smtpUrl: undefined,
    apiDocs: true,
    metricsToken: undefined,
    ...overrides,
  };
}

/** A gateway on its own fresh database, listening on a free loopback port. */
export async function startTestGateway(kind: TestDatabaseKind, overrides: Partial<GatewayConfig> = {}, now?: () => Date): Promise<TestGateway> {
  const database = await createTestDatabase(kind);
  const logs = logCollector();
  const gateway = await startGateway({
    config: testConfig({ databaseUrl: database.databaseUrl, ...overrides }),
    pgliteDump: database.pgliteDump,
    logDestination: logs.destination,
    now,
  });
  registerGatewayDatabase(gateway.url, gateway.ctx.dataSource);
  // The bootstrap admin starts past the first-login change, unless the test chose its password (and tests that change).
  if (!('bootstrapAdminPassword' in overrides)) await markFirstLoginChangeMade(gateway.url, 'admin');
  return {
    ...gateway,
    kind,
    logs: logs.lines,
    databaseUrl: database.databaseUrl,
    close: async () => {
      forgetGatewayDatabase(gateway.url);
      await gateway.close();
      await database.drop();
    },
  };
}
