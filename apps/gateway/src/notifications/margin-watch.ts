import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CustodyHealthService } from '../credentials/custody-health.service.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { inTransaction, JobQueue } from '../jobs/job-queue.js';
import { NotificationDispatcher } from './notification-dispatcher.js';

export const MARGIN_QUEUE = 'custody-margins';

/** Credential id → its margin before the change. */
export interface MarginJob {
  before: Record<string, number>;
}

/**
 * `credential.margin_low` (spec §4a health; issue 18's waiting event): a change to a
 * custodian (disabled, operator role removed, keys re-enrolled) takes the margins of the
 * credentials they hold shares of before the change (`before`), and enqueues them in the
 * change's own transaction (`enqueue`): announced exactly when the change commits. After
 * the commit a worker reads the margins again, and each credential that went from 1 or
 * more to below 1 fans out one event; its id comes from the job's, so a retried job
 * sends nothing twice.
 */
@Injectable()
export class MarginWatch implements OnApplicationBootstrap {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly jobs: JobQueue,
    private readonly health: CustodyHealthService,
    private readonly dispatcher: NotificationDispatcher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const boss = await this.jobs.queue(MARGIN_QUEUE, { retryLimit: 10, retryBackoff: true, expireInSeconds: 5 * 60 });
    await boss.work<MarginJob>(MARGIN_QUEUE, { pollingIntervalSeconds: 1, batchSize: 10 }, async (batch) => {
      for (const job of batch) await this.check(job.data, job.id);
    });
  }

  /** Before the change's transaction: the margins it may lower (read outside it: the embedded database has one connection). */
  before(userId: string): Promise<Map<string, number>> {
    return this.health.marginsHeldBy(userId);
  }

  /** Inside the change's transaction: only credentials that had a margin to lose are watched. */
  async enqueue(tx: EntityManager, before: Map<string, number>): Promise<void> {
    const watched = Object.fromEntries([...before].filter(([, margin]) => margin >= 1));
    if (Object.keys(watched).length === 0) return;
    await this.jobs.started().send(MARGIN_QUEUE, { before: watched } satisfies MarginJob, { db: inTransaction(tx) });
  }

  private async check(job: MarginJob, key: string): Promise<void> {
    for (const [credentialId, before] of Object.entries(job.before)) {
      const now = await this.health.healthOf(credentialId);
      if (now === undefined || before < 1 || now.margin >= 1) continue;
      this.ctx.log.warn({ credentialId, before, margin: now.margin }, 'credential margin below 1: one more departure loses it');
      await this.dispatcher.announceMarginLow(now, `${key}/${credentialId}`);
    }
  }
}
