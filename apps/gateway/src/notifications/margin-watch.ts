import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CustodyHealthService } from '../credentials/custody-health.service.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { inTransaction, JobQueue } from '../jobs/job-queue.js';
import { NotificationDispatcher } from './notification-dispatcher.js';

export const MARGIN_QUEUE = 'custody-margins';

export interface MarginJob {
  credentialIds: string[];
}

/**
 * `credential.margin_low` (spec §4a health; issue 18's waiting event). A change to a
 * custodian that can lower margins (disabled, operator role removed, keys re-enrolled)
 * enqueues, in its own transaction, a check of the credentials they hold shares of: it
 * runs exactly when the change commits. After the commit a worker reads each margin:
 * below 1, it announces once per stretch below 1 of that credential version (a row in
 * `credential_margin_alerts`, whose `episode` makes the event id, so two workers or a
 * retried job send it once); at 1 or more it ends the stretch.
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
      for (const job of batch) for (const id of job.data.credentialIds) await this.check(id);
    });
  }

  /** Inside the change's transaction: check, after it commits, the credentials whose current version `userId` holds a share of. */
  async enqueue(tx: EntityManager, userId: string): Promise<void> {
    const rows: { id: string }[] = await tx.query(
      `SELECT DISTINCT c.id FROM credential_shares s JOIN credentials c ON c.id = s.credential_id AND c.version = s.version WHERE s.custodian_id = $1`,
      [userId],
    );
    if (rows.length === 0) return;
    await this.jobs.started().send(MARGIN_QUEUE, { credentialIds: rows.map((r) => r.id) } satisfies MarginJob, { db: inTransaction(tx) });
  }

  private async check(credentialId: string): Promise<void> {
    const db = this.ctx.dataSource;
    const now = await this.health.healthOf(credentialId);
    if (now === undefined) return;
    if (now.margin >= 1) {
      await db.query('DELETE FROM credential_margin_alerts WHERE credential_id = $1', [credentialId]);
      return;
    }
    await db.query('INSERT INTO credential_margin_alerts (credential_id, version, episode) VALUES ($1, $2, $3) ON CONFLICT (credential_id, version) DO NOTHING', [credentialId, now.version, randomUUID()]);
    const [alert]: { episode: string; announcedAt: Date | null }[] = await db.query(
      'SELECT episode, announced_at AS "announcedAt" FROM credential_margin_alerts WHERE credential_id = $1 AND version = $2',
      [credentialId, now.version],
    );
    if (alert === undefined || alert.announcedAt !== null) return;
    this.ctx.log.warn({ credentialId, margin: now.margin }, 'credential margin below 1: one more departure loses it');
    await this.dispatcher.announceMarginLow(now, `margin_low/${alert.episode}`);
    await db.query('UPDATE credential_margin_alerts SET announced_at = now() WHERE credential_id = $1 AND version = $2', [credentialId, now.version]);
  }
}
