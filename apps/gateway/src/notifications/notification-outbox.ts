import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RequestChange } from '#libs/contracts';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { inTransaction, JobQueue } from '../jobs/job-queue.js';
import { ChannelSubscriptions } from './channel-subscriptions.js';
import { eventTypesPossibleFor } from './notification-content.js';

export const NOTIFICATION_QUEUE = 'request-notifications';

/**
 * Hands one committed request change on; throws to have the job retried. `key` is the
 * outbox job's id, the same on every retry: what makes the events it yields idempotent.
 */
export type NotificationDeliverer = (change: RequestChange, key: string) => Promise<void>;

/**
 * The outbox of the request lifecycle: every transition that some channel wants to
 * hear of (ChannelSubscriptions) enqueues one job in its own transaction, so a change
 * is announced exactly when it commits and never when it rolls back, and a replica
 * that dies after the commit loses nothing. pg-boss hands
 * each job to one worker on one replica. The notification dispatcher registers the
 * deliverer that fans each change out to the channels (notification-dispatcher.ts).
 */
@Injectable()
export class NotificationOutbox implements OnApplicationBootstrap {
  private readonly deliverers: NotificationDeliverer[] = [];

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly jobs: JobQueue,
    private readonly subscriptions: ChannelSubscriptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const boss = await this.jobs.queue(NOTIFICATION_QUEUE, { retryLimit: 10, retryBackoff: true, expireInSeconds: 5 * 60 });
    await boss.work<RequestChange>(NOTIFICATION_QUEUE, { pollingIntervalSeconds: 2, batchSize: 10 }, async (jobs) => {
      for (const job of jobs) await this.deliver(job.data, job.id);
    });
  }

  register(deliverer: NotificationDeliverer): void {
    this.deliverers.push(deliverer);
  }

  /** Inserts the change's job inside the caller's transaction, when some channel wants what it announces. */
  async enqueue(tx: EntityManager, change: RequestChange): Promise<void> {
    if (!(await this.subscriptions.wantsAnyOf(tx, eventTypesPossibleFor(change.status)))) return;
    await this.jobs.started().send(NOTIFICATION_QUEUE, change, { db: inTransaction(tx) });
  }

  private async deliver(change: RequestChange, key: string): Promise<void> {
    for (const deliverer of this.deliverers) await deliverer(change, key);
    this.ctx.log.debug({ requestId: change.id, status: change.status }, 'request change delivered to the notification channels');
  }
}
