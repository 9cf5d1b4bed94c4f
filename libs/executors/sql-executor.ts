import { connect } from 'node:net';
import pg from 'pg';
import { throwIfAborted, truncate } from './checks.js';
import { CappedQuery, type CappedResult } from './capped-query.js';
import type { ExecutionInput, Executor } from './executor.js';
import { ExecutorError } from './executor-error.js';
import { quoteIdentifier } from './sql-read-only.js';
import { checkPostgresPassword, parseSqlParams, validatePostgresConfig, type PostgresConfig } from './sql-params.js';

// pg needs the password as a JS string, which cannot be zeroed; the secret
// Buffer itself is only read.

const CONNECT_TIMEOUT_MS = 30_000;
const CANCEL_REQUEST_CODE = 80877102;
const AUTH_SQLSTATES: ReadonlySet<string> = new Set(['28P01', '28000']);

/**
 * A CancelRequest for the backend running our statement, on a connection of
 * its own (protocol §53.2.8): the server interrupts the statement at once,
 * where closing our socket would let it run until it next writes.
 */
function cancelBackend(config: PostgresConfig, processId: number | null, secretKey: number | null): void {
  if (processId === null || secretKey === null) return;
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  message.writeInt32BE(processId, 8);
  message.writeInt32BE(secretKey, 12);
  const socket = connect({ host: config.host, port: config.port }, () => socket.end(message));
  socket.setTimeout(10_000, () => socket.destroy());
  socket.on('error', () => socket.destroy());
}

function sqlFailed(error: unknown, config: PostgresConfig, password: string): ExecutorError {
  const e = (error ?? {}) as { code?: unknown; severity?: unknown; message?: unknown };
  const clean = (text: string) => truncate(text.split(password).join('[REDACTED]'), 300);
  if (typeof e.code === 'string' && AUTH_SQLSTATES.has(e.code)) {
    return new ExecutorError('UPSTREAM_FAILED', `postgres ${config.user}@${config.host}:${config.port}/${config.database} refused the password (${e.code} authentication failed)`);
  }
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.message === 'string') {
    return new ExecutorError('UPSTREAM_FAILED', `sql.exec: ${typeof e.severity === 'string' ? e.severity : 'ERROR'} ${e.code}: ${clean(e.message)}`);
  }
  if (typeof e.code === 'string') return new ExecutorError('UPSTREAM_FAILED', `connection to postgres ${config.host}:${config.port} failed (${e.code})`);
  const message = typeof e.message === 'string' ? clean(e.message) : 'no answer';
  return new ExecutorError('UPSTREAM_FAILED', `connection to postgres ${config.host}:${config.port} failed (${message})`);
}

function runCapped(client: pg.Client, sql: string): Promise<CappedResult> {
  return new Promise((resolve, reject) => {
    client.query(new CappedQuery(sql, resolve, reject));
  });
}

/**
 * `sql.exec` (credential kind `postgres`): runs one statement as
 * `config.user` with the password, on a fresh connection closed afterwards.
 * Enforces:
 * - `readOnly` (the default) runs in `BEGIN READ ONLY` after a first snapshot,
 *   so the statement can neither write nor switch the transaction to read
 *   write, and is rolled back; otherwise `BEGIN` … `COMMIT`; a read-only
 *   statement has passed `checkReadOnlySql` and runs with
 *   `standard_conforming_strings` on and, when the config names
 *   `readOnlyRole`, under `SET LOCAL ROLE` to it;
 * - one statement only (extended protocol), at most 1000 rows returned, as
 *   objects keyed by column name, with `truncated: true` beyond;
 * - aborting (time limit, shutdown) sends a CancelRequest and closes the
 *   connection, so the statement stops on the server too.
 * Returns `{rowCount, rows}`. A statement error is UPSTREAM_FAILED with its
 * SQLSTATE; a refused password says so without the password.
 *
 * @example
 * const result = await runWithTimeout(sqlExecutor, { secret, params: { sql: 'SELECT id FROM orders LIMIT 5' },
 *   config: { host: 'db.internal', port: 5432, database: 'shop', user: 'report_ro', ssl: true } }, 60_000);
 */
export const sqlExecutor: Executor = {
  kind: 'sql.exec',
  credentialKinds: ['postgres'],

  validateConfig(config: unknown): Record<string, unknown> {
    return { ...validatePostgresConfig(config) };
  },

  validateParams(params: unknown): Record<string, unknown> {
    return { ...parseSqlParams(params) };
  },

  async execute({ secret, config, params, signal }: ExecutionInput): Promise<Record<string, unknown>> {
    const checkedConfig = validatePostgresConfig(config);
    const { sql, readOnly } = parseSqlParams(params);
    checkPostgresPassword(secret);
    throwIfAborted(signal);
    const password = secret.toString('utf8');
    const client = new pg.Client({
      host: checkedConfig.host,
      port: checkedConfig.port,
      database: checkedConfig.database,
      user: checkedConfig.user,
      password,
      ssl: checkedConfig.ssl
        ? { rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(checkedConfig.caCertificate === undefined ? {} : { ca: checkedConfig.caCertificate }) }
        : false,
      enableChannelBinding: checkedConfig.ssl,
      application_name: 'quorumgate',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // A dead socket is also reported to the running query; this keeps the event from crashing the process.
    client.on('error', () => undefined);
    const backend = client as unknown as { processID: number | null; secretKey: number | null };
    const onAbort = () => {
      cancelBackend(checkedConfig, backend.processID, backend.secretKey);
      client.end().catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.connect();
      throwIfAborted(signal);
      if (readOnly) {
        await client.query('BEGIN TRANSACTION READ ONLY');
        // The server then lexes the statement as checkReadOnlySql did (backslashes plain in '…').
        await client.query('SET LOCAL standard_conforming_strings = on');
        if (checkedConfig.readOnlyRole !== undefined) await client.query(`SET LOCAL ROLE ${quoteIdentifier(checkedConfig.readOnlyRole)}`);
        // Takes the first snapshot: after it, SET TRANSACTION READ WRITE is refused.
        await client.query('SELECT 1');
      } else {
        await client.query('BEGIN');
      }
      const result = await runCapped(client, sql);
      await client.query(readOnly ? 'ROLLBACK' : 'COMMIT');
      return { ...result };
    } catch (error) {
      if (signal.aborted) throw new ExecutorError('ABORTED', 'the operation was aborted; the statement is cancelled and the connection closed');
      if (error instanceof ExecutorError) throw error;
      throw sqlFailed(error, checkedConfig, password);
    } finally {
      signal.removeEventListener('abort', onAbort);
      await client.end().catch(() => undefined);
    }
  },
};
