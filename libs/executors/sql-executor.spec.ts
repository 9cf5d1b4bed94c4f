import { startSqlPeer, type SqlPeer } from '../../test/support/peers/postgres.js';
import { realDatabaseUrl } from '../../test/support/test-databases.js';
import { executorFor, runWithTimeout, SQL_ROW_LIMIT, validateCredentialSecret } from './index.js';
import { executorRejection } from './executor-rejection.testing.js';

const executor = executorFor('sql.exec');


describe('sql.exec params, config and password', () => {
  const valid = { host: 'db.internal', port: 5432, database: 'shop', user: 'report_ro', ssl: true };

  it('fills readOnly: true, so that a policy constraint on it sees the default', () => {
    expect(executor.validateParams({ sql: 'SELECT 1' })).toEqual({ sql: 'SELECT 1', readOnly: true });
    expect(executor.validateParams({ sql: 'UPDATE t SET a = 1', readOnly: false })).toEqual({ sql: 'UPDATE t SET a = 1', readOnly: false });
  });

  it.each<[string, Record<string, unknown>]>([
    ['no sql', {}],
    ['blank sql', { sql: '   ' }],
    ['sql with NUL', { sql: 'SELECT 1\u0000' }],
    ['sql over 64 KiB', { sql: `SELECT '${'x'.repeat(65536)}'` }],
    ['a string readOnly', { sql: 'SELECT 1', readOnly: 'false' }],
    ['values (not supported)', { sql: 'SELECT $1', values: [1] }],
  ])('refuses params with %s (PARAMS_INVALID)', (_name, params) => {
    expect(() => executor.validateParams(params)).toThrow(expect.objectContaining({ code: 'PARAMS_INVALID' }));
  });

  it('fills the config defaults', () => {
    expect(executor.validateConfig({ host: 'db.internal', database: 'shop', user: 'report_ro' })).toEqual(valid);
    expect(executor.validateConfig({ ...valid, host: '127.0.0.1', ssl: false })).toMatchObject({ ssl: false });
    expect(executor.validateConfig({ ...valid, host: '::1', ssl: false })).toMatchObject({ ssl: false });
  });

  it.each<[string, Record<string, unknown>]>([
    ['ssl false to a remote host', { ...valid, ssl: false }],
    ['a caCertificate without ssl', { ...valid, host: 'localhost', ssl: false, caCertificate: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----' }],
    ['a caCertificate that is not PEM', { ...valid, caCertificate: 'not pem' }],
    ['a string ssl', { ...valid, ssl: 'require' }],
    ['a host with a slash (unix socket path)', { ...valid, host: '/var/run/postgresql' }],
    ['a user with a newline', { ...valid, user: 'a\nb' }],
    ['a database name of 64 characters', { ...valid, database: 'd'.repeat(64) }],
    ['a password in config', { ...valid, password: 'x' }],
    ['no user', { host: 'db', database: 'shop' }],
  ])('refuses config with %s (CONFIG_INVALID)', (_name, config) => {
    expect(() => executor.validateConfig(config)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['with a trailing newline', Buffer.from('pw-123456\n')],
    ['with NUL', Buffer.from('pw\u0000123456')],
    ['not UTF-8', Buffer.from([0x70, 0x77, 0xff])],
    ['over 1 KiB', Buffer.alloc(1025, 'a')],
  ])('refuses a password %s (SECRET_INVALID), without echoing it', async (_name, secret) => {
    const error = await executorRejection(validateCredentialSecret('postgres', secret, {}));
    expect(error.code).toBe('SECRET_INVALID');
    if (secret.byteLength >= 8) expect(error.message).not.toContain(secret.toString('latin1').trim().slice(0, 8));
  });

  it('accepts a password and publishes nothing', async () => {
    expect(await validateCredentialSecret('postgres', Buffer.from('pässwörd with spaces'), {})).toEqual({ publicInfo: {} });
  });
});

const adminUrl = realDatabaseUrl();
if (adminUrl === undefined) process.stderr.write('sql.exec: QG_TEST_DATABASE_URL is not set: skipping the tests against a real PostgreSQL server\n');

(adminUrl === undefined ? describe.skip : describe)('sql.exec against a real PostgreSQL server', () => {
  let peer: SqlPeer;
  const config = () => ({ host: peer.host, port: peer.port, database: peer.database, user: peer.role, ssl: false });
  const run = (params: Record<string, unknown>, options: { password?: string; timeoutMs?: number; signal?: AbortSignal } = {}) =>
    runWithTimeout(
      executor,
      { secret: Buffer.from(options.password ?? peer.password), config: config(), params, ...(options.signal ? { signal: options.signal } : {}) },
      options.timeoutMs ?? 10_000,
    );

  beforeAll(async () => {
    peer = await startSqlPeer(adminUrl as string);
  });
  afterAll(() => peer?.close());

  it('runs as the role, with JSON-friendly values keyed by column name', async () => {
    const result = await run({ sql: 'SELECT current_user AS who, id, name, price, tags, big, added, true AS yes, 1.5::float8 AS f, NULL AS nothing FROM inventory ORDER BY id' });
    expect(result.rowCount).toBe(3);
    expect(result.truncated).toBeUndefined();
    expect((result.rows as any[])[0]).toEqual({ who: peer.role, id: 1, name: 'bolt', price: '0.25', tags: ['m4'], big: '9007199254740993', added: '2024-01-02', yes: true, f: 1.5, nothing: null });
    expect((result.rows as any[])[2]).toMatchObject({ tags: { d: 4 }, price: null });
    if (peer.front) expect(peer.front.attempts.at(-1)).toEqual({ user: peer.role, database: peer.database, ok: true });
  });

  it('refuses a wrong password, without echoing it', async () => {
    const error = await executorRejection(run({ sql: 'SELECT 1' }, { password: 'pw-wrong-password-123' }));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toMatch(/refused the password \(28P01/);
    expect(error.message).not.toContain('pw-wrong');
    if (peer.front) expect(peer.front.attempts.at(-1)).toMatchObject({ user: peer.role, ok: false });
  });

  it('runs read-only by default: a write fails, and cannot switch to read write', async () => {
    const write = await executorRejection(run({ sql: `INSERT INTO inventory VALUES (10, 'nail')` }));
    expect(write.message).toMatch(/25006.*read-only transaction/);
    const escape = await executorRejection(run({ sql: 'SET TRANSACTION READ WRITE' }));
    expect(escape.message).toMatch(/25001/);
    const chained = await executorRejection(run({ sql: `COMMIT; INSERT INTO inventory VALUES (11, 'nail')` }));
    expect(chained.message).toMatch(/42601.*multiple commands/);
    expect(await peer.admin('SELECT count(*)::int AS n FROM inventory WHERE id >= 10')).toEqual([{ n: 0 }]);
  });

  it('writes and commits when readOnly is false', async () => {
    const result = await run({ sql: `INSERT INTO inventory (id, name) VALUES (20, 'rivet'), (21, 'pin') RETURNING id`, readOnly: false });
    expect(result).toEqual({ rowCount: 2, rows: [{ id: 20 }, { id: 21 }] });
    expect(await peer.admin('SELECT name FROM inventory WHERE id IN (20, 21) ORDER BY id')).toEqual([{ name: 'rivet' }, { name: 'pin' }]);
  });

  it('rolls a failed write back', async () => {
    const error = await executorRejection(run({ sql: `INSERT INTO inventory (id, name) VALUES (30, 'ok'), (1, 'duplicate')`, readOnly: false }));
    expect(error.message).toMatch(/23505/);
    expect(await peer.admin('SELECT count(*)::int AS n FROM inventory WHERE id = 30')).toEqual([{ n: 0 }]);
  });

  it('returns at most 1000 rows, marked truncated', async () => {
    const result = await run({ sql: 'SELECT n FROM numbers ORDER BY n' });
    expect(result.truncated).toBe(true);
    expect(result.rows).toHaveLength(SQL_ROW_LIMIT);
    expect((result.rows as any[]).at(-1)).toEqual({ n: 1000 });
    expect(result.rowCount).toBe(SQL_ROW_LIMIT);
  });

  it('answers statements without rows and an empty statement', async () => {
    expect(await run({ sql: `UPDATE inventory SET name = name WHERE id = 2`, readOnly: false })).toEqual({ rowCount: 1, rows: [] });
    expect(await run({ sql: '-- nothing to do' })).toEqual({ rowCount: 0, rows: [] });
  });

  it('runs a read-only statement under SET LOCAL ROLE readOnlyRole, quoted, and a write statement as the user', async () => {
    // A name that needs quoting: spliced unquoted, it would be a syntax error (or worse).
    const readOnlyRole = `qg_test_ro_${peer.role.slice(-10)} "x"`;
    const quoted = `"${readOnlyRole.replace(/"/g, '""')}"`;
    await peer.admin(`CREATE ROLE ${quoted} NOLOGIN`);
    try {
      await peer.admin(`GRANT ${quoted} TO ${peer.role}`);
      await peer.admin(`GRANT USAGE ON SCHEMA public TO ${quoted}`);
      await peer.admin(`GRANT SELECT ON numbers TO ${quoted}`);
      const withRole = { ...config(), readOnlyRole };
      const runAs = (params: Record<string, unknown>) => runWithTimeout(executor, { secret: Buffer.from(peer.password), config: withRole, params }, 10_000);
      expect(await runAs({ sql: 'SELECT current_user AS who, session_user AS login, count(*)::int AS n FROM numbers' })).toEqual({ rowCount: 1, rows: [{ who: readOnlyRole, login: peer.role, n: 1500 }] });
      const denied = await executorRejection(runAs({ sql: 'SELECT name FROM inventory' }));
      expect(denied.message).toMatch(/42501.*permission denied/);
      expect(await runAs({ sql: 'SELECT current_user AS who', readOnly: false })).toEqual({ rowCount: 1, rows: [{ who: peer.role }] });
      // The lexical check holds at execution too, whatever was stored.
      expect((await executorRejection(runAs({ sql: `SELECT set_config('role', 'none', true)` }))).code).toBe('PARAMS_INVALID');
    } finally {
      await peer.admin(`DROP OWNED BY ${quoted}`);
      await peer.admin(`DROP ROLE ${quoted}`);
    }
  });

  it('fails closed when readOnlyRole is not a role the user may take', async () => {
    const error = await executorRejection(runWithTimeout(executor, { secret: Buffer.from(peer.password), config: { ...config(), readOnlyRole: 'qg_no_such_role_15' }, params: { sql: 'SELECT 1' } }, 10_000));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toMatch(/22023|42704|role "qg_no_such_role_15" does not exist/);
  });

  it('reads backslashes in strings as the read-only check does, whatever the role sets', async () => {
    await peer.admin(`ALTER ROLE ${peer.role} SET standard_conforming_strings = off`);
    try {
      expect(await run({ sql: `SELECT 'a\\' AS s` })).toEqual({ rowCount: 1, rows: [{ s: 'a\\' }] });
    } finally {
      await peer.admin(`ALTER ROLE ${peer.role} RESET standard_conforming_strings`);
    }
  });

  it('refuses COPY FROM STDIN without hanging', async () => {
    const error = await executorRejection(run({ sql: 'COPY inventory (id, name) FROM STDIN', readOnly: false }, { timeoutMs: 5000 }));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toMatch(/57014|COPY/);
  });

  it('reports a statement error with its SQLSTATE', async () => {
    const error = await executorRejection(run({ sql: 'SELECT * FROM no_such_table' }));
    expect(error.message).toMatch(/ERROR 42P01: relation "no_such_table" does not exist/);
  });

  it('times out (TIMEOUT) and cancels the statement on the server', async () => {
    const started = Date.now();
    const error = await executorRejection(run({ sql: 'SELECT pg_sleep(30)' }, { timeoutMs: 500 }));
    expect(error.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
    const deadline = Date.now() + 5000;
    let running: any[] = [];
    do {
      running = await peer.admin(`SELECT pid FROM pg_stat_activity WHERE usename = $1 AND query LIKE '%pg_sleep%' AND state = 'active'`, [peer.role]);
      if (running.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    expect(running).toEqual([]);
    if (peer.front) expect(peer.front.cancels).toBeGreaterThan(0);
  });

  it('stops when the caller aborts (ABORTED)', async () => {
    const controller = new AbortController();
    const pending = run({ sql: 'SELECT pg_sleep(30)' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    expect((await executorRejection(pending)).code).toBe('ABORTED');
  });

  it('reports a refused connection as UPSTREAM_FAILED', async () => {
    const error = await executorRejection(runWithTimeout(executor, { secret: Buffer.from(peer.password), config: { ...config(), port: 1 }, params: { sql: 'SELECT 1' } }, 10_000));
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED', message: expect.stringMatching(/ECONNREFUSED/) });
  });
});
