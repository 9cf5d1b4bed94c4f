import { openDatabase, type Database } from './database.js';
import { prepared, queryPrepared } from './prepared.js';

describe('prepared', () => {
  it('refuses one name for two texts: node-postgres would refuse it on the first connection that ran both', () => {
    const first = prepared('qg_spec_statement', 'SELECT 1');
    expect(prepared('qg_spec_statement', 'SELECT 1')).toEqual(first);
    expect(() => prepared('qg_spec_statement', 'SELECT 2')).toThrow(/declared twice/);
  });
});

describe('queryPrepared (embedded PostgreSQL)', () => {
  let database: Database;
  const sum = prepared('qg_spec_sum', 'SELECT $1::int + $2::int AS n');

  beforeAll(async () => {
    database = await openDatabase({ inMemory: true });
  });
  afterAll(() => database.close());

  it('runs on the pool and again on the same connection, where the statement is already prepared', async () => {
    expect(await queryPrepared(database.dataSource, sum, [1, 2])).toEqual([{ n: 3 }]);
    expect(await queryPrepared(database.dataSource, sum, [40, 2])).toEqual([{ n: 42 }]);
  });

  it("runs inside a transaction on that transaction's connection, and refuses once it has ended", async () => {
    const runner = database.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query('CREATE TEMP TABLE spec_seen (n int)');
    await runner.query('INSERT INTO spec_seen VALUES (7)');
    // Only the transaction's connection sees its temporary table (and it is the embedded pool's only one).
    expect(await queryPrepared(runner.manager, prepared('qg_spec_seen', 'SELECT n FROM spec_seen'), [])).toEqual([{ n: 7 }]);
    await runner.rollbackTransaction();
    await runner.release();
    await expect(queryPrepared(runner.manager, sum, [1, 1])).rejects.toThrow(/has ended/);
  });
});
