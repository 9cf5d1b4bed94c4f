import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RequestChange } from '#libs/contracts';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { inTransaction, JobQueue } from '../jobs/job-queue.js';

export const NOTIFICATION_QUEUE = 'request-notifications';

/** Delivers one committed request change to one channel; throws to have the job retried. */
export type NotificationDeliverer = (change: RequestChange) => Promise<void>;

/**
 * The outbox of the request lifecycle: every transition enqueues one job in its own
 * transaction, so a change is announced exactly when it commits and never when it
 * rolls back, and a replica that dies after the commit loses nothing. pg-boss hands
 * each job to one worker on one replica. Channels (webhook, Slack, email) register a
 * deliverer; with none, a job is simply completed.
 */
@Injectable()
export class NotificationOutbox implements OnApplicationBootstrap {
  private readonly deliverers: NotificationDeliverer[] = [];

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly jobs: JobQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const boss = await this.jobs.queue(NOTIFICATION_QUEUE, { retryLimit: 10, retryBackoff: true, expireInSeconds: 5 * 60 });
    await boss.work<RequestChange>(NOTIFICATION_QUEUE, { pollingIntervalSeconds: 2, batchSize: 10 }, async (jobs) => {
      for (const job of jobs) await this.deliver(job.data);
    });
  }

  register(deliverer: NotificationDeliverer): void {
    this.deliverers.push(deliverer);
  }

  /** Inserts the change's job inside the caller's transaction. */
  async enqueue(tx: EntityManager, change: RequestChange): Promise<void> {
    await this.jobs.started().send(NOTIFICATION_QUEUE, change, { db: inTransaction(tx) });
  }

  private async deliver(change: RequestChange): Promise<void> {
    for (const deliverer of this.deliverers) await deliverer(change);
    this.ctx.log.debug({ requestId: change.id, status: change.status }, 'request change delivered to the notification channels');
  }
}
