import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { inTransaction, JobQueue } from '../jobs/job-queue.js';
import type { RequestView } from '../requests/requests.repository.js';

export const EXECUTION_QUEUE = 'request-execution';
/** The queued job is the fallback for a replica that died between approval and claim: it waits this long first. */
const FALLBACK_DELAY_SECONDS = 10;

/** Runs a request; `approved` is the request as the approving transaction committed it, when this process approved it. */
export type ExecutionWorker = (requestId: string, approved?: RequestView) => Promise<void>;

/**
 * Execution leaves the approval transaction through pg-boss: the job is inserted in
 * the same transaction that marks the request approved (an outbox), so a crash
 * between commit and execution loses nothing. The replica that committed also runs
 * it at once (`runSoon`, with the request as it committed it, so the claim need not
 * read it again) and deletes the job in its claim, so the job becomes due
 * (after FALLBACK_DELAY_SECONDS) only when that replica died first; the claim
 * `approved → executing` makes whichever comes second a no-op, so a request
 * executes at most once. The execution service is the worker (`work`).
 */
@Injectable()
export class ExecutionQueue implements BeforeApplicationShutdown {
  private worker: ExecutionWorker | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly jobs: JobQueue,
  ) {}

  /** Takes this process's share of the queued executions, and those it approves itself. */
  async work(worker: ExecutionWorker): Promise<void> {
    this.worker = worker;
    const boss = await this.jobs.queue(EXECUTION_QUEUE, { retryLimit: 0, expireInSeconds: 15 * 60 });
    await boss.work<{ requestId: string }>(EXECUTION_QUEUE, { pollingIntervalSeconds: 1, batchSize: 1 }, async (jobs) => {
      for (const job of jobs) await this.track(job.data.requestId);
    });
  }

  /** Inserts the execution job inside the caller's transaction. */
  async enqueue(tx: EntityManager, requestId: string): Promise<void> {
    await this.jobs.started().send(EXECUTION_QUEUE, { requestId }, { db: inTransaction(tx), id: requestId, singletonKey: requestId, startAfter: FALLBACK_DELAY_SECONDS });
  }

  /** Deletes the request's fallback job inside the caller's (claim) transaction. */
  async forget(tx: EntityManager, requestId: string): Promise<void> {
    await this.jobs.started().deleteJob(EXECUTION_QUEUE, requestId, { db: inTransaction(tx) });
  }

  /** Runs the request now in this process (after the approving commit); the queued job is the fallback. */
  runSoon(approved: RequestView): void {
    if (this.stopping) return;
    setImmediate(() => void this.track(approved.request.id, approved));
  }

  private track(requestId: string, approved?: RequestView): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return Promise.resolve();
    const run = worker(requestId, approved)
      .catch((error: unknown) => this.ctx.log.error({ err: error, requestId }, 'execution failed unexpectedly'))
      .finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
    return run;
  }

  /** Drains in-flight executions before the database closes (the job queue stops its workers meanwhile). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.inFlight]);
  }
}
