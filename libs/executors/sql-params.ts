import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { requireMembers } from './checks.js';
import { ExecutorError } from './executor-error.js';
import { checkReadOnlySql } from './sql-read-only.js';

export interface PostgresConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  ssl: boolean;
  caCertificate?: string;
  /** Read-only statements run under `SET LOCAL ROLE` to it. */
  readOnlyRole?: string;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '::1']);
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;
const IDENTIFIER_CONTROL = /[\x00-\x1f\x7f]/;
const MAX_SQL_CHARS = 64 * 1024;
const MAX_PASSWORD_BYTES = 1024;

function configInvalid(message: string): ExecutorError {
  return new ExecutorError('CONFIG_INVALID', message);
}

function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 63 || IDENTIFIER_CONTROL.test(value)) {
    throw configInvalid(`config.${what} must be a name of 1 to 63 characters without control characters`);
  }
  return value;
}

function checkCaCertificate(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64 * 1024) {
    throw configInvalid('config.caCertificate must be a PEM string of at most 64 KiB');
  }
  const blocks = value.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0 || value.replace(PEM_CERTIFICATE, '').trim() !== '') throw configInvalid('config.caCertificate must hold only PEM certificates');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw configInvalid('config.caCertificate holds a certificate that does not parse');
    }
  }
  return value;
}

/**
 * Checks `sql.exec` config. Enforces:
 * - only `host`, `port`, `database`, `user`, `ssl`, `caCertificate`;
 * - `host` a DNS name or an IP address; `port` 1 to 65535 (default 5432);
 * - `database` and `user` 1 to 63 characters without control characters;
 * - `ssl` (default `true`): TLS with certificate and host name verification;
 *   `false` only for a loopback host, since without TLS a server (or whoever
 *   answers in its place) may ask for the password in clear;
 * - `caCertificate`, only with TLS: PEM certificates that replace the default roots;
 * - `readOnlyRole`, optional, 1 to 63 characters without control characters: the role
 *   read-only statements run as (`SET LOCAL ROLE`), which `user` must be a member of.
 *
 * @example
 * validatePostgresConfig({ host: 'db.internal', database: 'app', user: 'report_ro' }); // port 5432, ssl true
 */
export function validatePostgresConfig(config: unknown): PostgresConfig {
  const c = requireMembers(config, ['host', 'port', 'database', 'user', 'ssl', 'caCertificate', 'readOnlyRole'], 'CONFIG_INVALID', 'sql.exec config');
  if (typeof c.host !== 'string' || (isIP(c.host) === 0 && !HOST_NAME.test(c.host))) throw configInvalid('config.host must be a host name or an IP address');
  const port = c.port ?? 5432;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw configInvalid('config.port must be an integer from 1 to 65535');
  const database = checkName(c.database, 'database');
  const user = checkName(c.user, 'user');
  const ssl = c.ssl ?? true;
  if (typeof ssl !== 'boolean') throw configInvalid('config.ssl must be true or false');
  if (!ssl && !LOOPBACK_HOSTS.has(c.host)) throw configInvalid('config.ssl may be false only for 127.0.0.1, localhost or ::1');
  const result: PostgresConfig = { host: c.host, port, database, user, ssl };
  if (c.caCertificate !== undefined) {
    if (!ssl) throw configInvalid('config.caCertificate needs ssl');
    result.caCertificate = checkCaCertificate(c.caCertificate);
  }
  if (c.readOnlyRole !== undefined) result.readOnlyRole = checkName(c.readOnlyRole, 'readOnlyRole');
  return result;
}

/**
 * Checks `sql.exec` params. Enforces: only `sql` and `readOnly`; `sql` 1 to
 * 65536 characters without NUL (one statement: it is sent with the extended
 * protocol, which refuses several); `readOnly` a boolean, default `true`;
 * a read-only statement passes `checkReadOnlySql` (no `DO`, `CALL`, `COPY`, …).
 * The default is filled in, so that the request (and its digest, and a policy
 * constraint `readOnly: true`) says what will run.
 *
 * @example
 * parseSqlParams({ sql: 'SELECT count(*) FROM orders' }); // { sql, readOnly: true }
 */
export function parseSqlParams(params: unknown): { sql: string; readOnly: boolean } {
  const p = requireMembers(params, ['sql', 'readOnly'], 'PARAMS_INVALID', 'params');
  if (typeof p.sql !== 'string' || p.sql.trim().length === 0 || p.sql.length > MAX_SQL_CHARS || p.sql.includes('\u0000')) {
    throw new ExecutorError('PARAMS_INVALID', `params.sql must be one SQL statement of 1 to ${MAX_SQL_CHARS} characters without NUL`);
  }
  const readOnly = p.readOnly ?? true;
  if (typeof readOnly !== 'boolean') throw new ExecutorError('PARAMS_INVALID', 'params.readOnly must be true or false');
  if (readOnly) checkReadOnlySql(p.sql);
  return { sql: p.sql, readOnly };
}

/**
 * Checks a `postgres` secret (the password) on its bytes. Enforces: 1 byte
 * to 1 KiB of UTF-8 without NUL (the protocol ends strings with it), CR or
 * LF (a trailing newline pasted by accident).
 *
 * @example
 * checkPostgresPassword(Buffer.from('s3cr3t-pw')); // passes
 */
export function checkPostgresPassword(secret: Buffer): void {
  if (!Buffer.isBuffer(secret)) throw new TypeError('secret must be a Buffer');
  const invalid = (message: string) => new ExecutorError('SECRET_INVALID', `postgres: ${message}`);
  if (secret.byteLength === 0) throw invalid('the password is empty');
  if (secret.byteLength > MAX_PASSWORD_BYTES) throw invalid('the password must be at most 1 KiB');
  if (secret.includes(0x00)) throw invalid('the password contains NUL');
  if (secret.includes(0x0a) || secret.includes(0x0d)) throw invalid('the password contains CR or LF (a trailing newline?)');
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(secret);
  } catch {
    throw invalid('the password is not UTF-8');
  }
}
