import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import type { Pool } from 'pg';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import type { RequestView } from '../requests/requests.repository.js';

export const EXECUTION_QUEUE = 'request-execution';
/** The queued job is the fallback for a replica that died between approval and claim: it waits this long first. */
const FALLBACK_DELAY_SECONDS = 10;

/** Runs a request; `approved` is the request as the approving transaction committed it, when this process approved it. */
type Handler = (requestId: string, approved?: RequestView) => Promise<void>;

/** pg-boss's statements run on the caller's transaction. */
function inTransaction(tx: EntityManager): PgBoss.Db {
  const runner = tx.queryRunner;
  if (runner === undefined) throw new TypeError('needs a transaction');
  return { executeSql: async (text: string, values: unknown[]) => ({ rows: ((await runner.query(text, values, true)) as { records: unknown[] }).records }) };
}

/**
 * Execution leaves the approval transaction through pg-boss: the job is inserted in
 * the same transaction that marks the request approved (an outbox), so a crash
 * between commit and execution loses nothing. The replica that committed also runs
 * it at once (`runSoon`, with the request as it committed it, so the claim need not
 * read it again) and deletes the job in its claim, so the job becomes due
 * (after FALLBACK_DELAY_SECONDS) only when that replica died first; the claim
 * `approved → executing` makes whichever comes second a no-op, so a request
 * executes at most once.
 */
@Injectable()
export class ExecutionQueue implements BeforeApplicationShutdown {
  private boss: PgBoss | undefined;
  private handler: Handler | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  async start(handler: Handler): Promise<void> {
    this.handler = handler;
    const pool = (this.ctx.dataSource.driver as unknown as { master: Pool }).master;
    const boss = new PgBoss({
      db: { executeSql: async (text, values) => ({ rows: (await pool.query(text, values)).rows }) },
      schema: 'pgboss',
      migrate: false,
      schedule: false,
      supervise: true,
    });
    boss.on('error', (error) => this.ctx.log.error({ err: error }, 'job queue error'));
    await boss.start();
    await boss.createQueue(EXECUTION_QUEUE, { name: EXECUTION_QUEUE, retryLimit: 0, expireInSeconds: 15 * 60 });
    await boss.work<{ requestId: string }>(EXECUTION_QUEUE, { pollingIntervalSeconds: 1, batchSize: 1 }, async (jobs) => {
      for (const job of jobs) await this.track(job.data.requestId);
    });
    this.boss = boss;
  }

  /** Inserts the execution job inside the caller's transaction. */
  async enqueue(tx: EntityManager, requestId: string): Promise<void> {
    await this.started().send(EXECUTION_QUEUE, { requestId }, { db: inTransaction(tx), id: requestId, singletonKey: requestId, startAfter: FALLBACK_DELAY_SECONDS });
  }

  /** Deletes the request's fallback job inside the caller's (claim) transaction. */
  async forget(tx: EntityManager, requestId: string): Promise<void> {
    await this.started().deleteJob(EXECUTION_QUEUE, requestId, { db: inTransaction(tx) });
  }

  private started(): PgBoss {
    if (this.boss === undefined) throw new Error('execution queue not started');
    return this.boss;
  }

  /** Runs the request now in this process (after the approving commit); the queued job is the fallback. */
  runSoon(approved: RequestView): void {
    if (this.stopping) return;
    setImmediate(() => void this.track(approved.request.id, approved));
  }

  private track(requestId: string, approved?: RequestView): Promise<void> {
    const handler = this.handler;
    if (handler === undefined) return Promise.resolve();
    const run = handler(requestId, approved)
      .catch((error: unknown) => this.ctx.log.error({ err: error, requestId }, 'execution failed unexpectedly'))
      .finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
    return run;
  }

  /** Drains in-flight executions before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.boss?.stop({ graceful: true, wait: true, close: false, timeout: 30000 });
    await Promise.allSettled([...this.inFlight]);
  }
}
