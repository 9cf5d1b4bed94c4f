import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import PgBoss from 'pg-boss';
import type { Pool } from 'pg';
import type { EntityManager } from 'typeorm';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';

/** pg-boss's statements run on the caller's transaction, so a job commits or rolls back with it. */
export function inTransaction(tx: EntityManager): PgBoss.Db {
  const runner = tx.queryRunner;
  if (runner === undefined) throw new TypeError('needs a transaction');
  return { executeSql: async (text: string, values: unknown[]) => ({ rows: ((await runner.query(text, values, true)) as { records: unknown[] }).records }) };
}

/**
 * The one pg-boss of this process, over the gateway's own database connections (its
 * schema is installed by a migration). Every queue of the gateway — executions,
 * notifications — goes through it, so each replica runs one supervisor. Started on
 * first use; stopped gracefully before the database closes, waiting for running jobs.
 */
@Injectable()
export class JobQueue implements BeforeApplicationShutdown {
  private starting: Promise<PgBoss> | undefined;
  private boss: PgBoss | undefined;
  private shuttingDown = false;
  /** pg-boss completes a job without awaiting it: its statement may still run when stop() resolves. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private creating: Promise<unknown> = Promise.resolve();

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  /** The started pg-boss, with `queue` created. */
  async queue(name: string, options: Omit<PgBoss.Queue, 'name'>): Promise<PgBoss> {
    if (this.shuttingDown) throw new Error('job queue is shutting down');
    const boss = await (this.starting ??= this.start());
    // One at a time: each queue is a partition of pg-boss's job table, and concurrent partition DDL deadlocks on PostgreSQL.
    const created = this.creating.then(() => boss.createQueue(name, { name, ...options }));
    this.creating = created.catch(() => undefined);
    await created;
    return boss;
  }

  /** The started pg-boss, for a statement inside a transaction; only after `queue()` resolved. */
  started(): PgBoss {
    if (this.boss === undefined) throw new Error('job queue not started');
    return this.boss;
  }

  private async start(): Promise<PgBoss> {
    const pool = (this.ctx.dataSource.driver as unknown as { master: Pool }).master;
    const boss = new PgBoss({
      db: { executeSql: (text, values) => this.track(pool.query(text, values).then((r) => ({ rows: r.rows }))) },
      schema: 'pgboss',
      migrate: false,
      schedule: false,
      supervise: true,
    });
    boss.on('error', (error) => this.ctx.log.error({ err: error }, 'job queue error'));
    await boss.start();
    this.boss = boss;
    return boss;
  }

  /**
   * A start still in flight is awaited, so that its supervisor timers are stopped too:
   * otherwise they would fire later against a pool the data source has already ended.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    const boss = await this.starting?.catch(() => undefined);
    await boss?.stop({ graceful: true, wait: true, close: false, timeout: 30000 });
    await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(query: Promise<T>): Promise<T> {
    this.inFlight.add(query);
    void query.catch(() => undefined).finally(() => this.inFlight.delete(query));
    return query;
  }
}
