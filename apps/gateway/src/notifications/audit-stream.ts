import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { AuditEntry, NotificationEvent } from '#libs/contracts';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import type { ChannelRow } from './channels.repository.js';
import { openChannelSecret } from './channels.service.js';
import { DeliveryError, SEND_TIMEOUT_MS, sendWebhook } from './senders.js';

const POLL_MS = 1000;
/** A replica holds a channel's stream this long; it stops sending well before, so no other replica ever sends beside it. */
const LEASE_SECONDS = 60;
const SEND_WINDOW_MS = LEASE_SECONDS * 1000 - 2 * SEND_TIMEOUT_MS;
/** After a failed send the stream waits this long before it tries the same entry again. */
const RETRY_AFTER_SECONDS = 5;
const BATCH = 100;

/**
 * The audit stream for a SIEM (issue 18 item 9): each webhook channel subscribed to
 * `audit.entry` receives every audit entry, in `seq` order, each with its `prevHash` and
 * `hash` so the receiver can verify the chain itself. The channel's cursor (the last
 * seq delivered) moves only after the receiver answered 2xx, so a dead receiver holds
 * the stream where it stopped and nothing is skipped; a lease on the channel row lets
 * one replica at a time send, in order. The entry's event id is the same on a repeat
 * (after a crash between the answer and the cursor moving), for the receiver to drop.
 */
@Injectable()
export class AuditStream implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running !== undefined || this.stopping) return;
      this.running = this.tick()
        .catch((error: unknown) => this.ctx.log.error({ err: error }, 'audit stream failed'))
        .finally(() => (this.running = undefined));
    }, POLL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    const channels: { id: string }[] = await this.ctx.dataSource.query(`SELECT id FROM notification_channels WHERE kind = 'webhook' AND 'audit.entry' = ANY (events) ORDER BY id`);
    for (const { id } of channels) {
      if (this.stopping) return;
      await this.pump(id);
    }
  }

  private async pump(channelId: string): Promise<void> {
    const db = this.ctx.dataSource;
    const claimed: (Pick<ChannelRow, 'id' | 'secretSealed' | 'config'> & { auditCursor: string })[] = await db.query(
      `WITH claimed AS (UPDATE notification_channels SET audit_lease_until = now() + $2 * interval '1 second'
        WHERE id = $1 AND 'audit.entry' = ANY (events) AND (audit_lease_until IS NULL OR audit_lease_until < now()) RETURNING *)
       SELECT id, secret_sealed AS "secretSealed", config, audit_cursor AS "auditCursor" FROM claimed`,
      [channelId, LEASE_SECONDS],
    );
    const channel = claimed[0];
    if (channel === undefined) return;
    const started = Date.now();
    let cursor = Number(channel.auditCursor);
    let failed = false;
    try {
      const secret = await openChannelSecret(this.ctx.masterKey, channel);
      if (!('signingSecret' in secret) || channel.config.url === undefined) throw new DeliveryError('the channel is misconfigured', false);
      for (;;) {
        const rows: (Omit<AuditEntry, 'seq'> & { seq: string })[] = await db.query(
          `SELECT seq, at, actor, action, subject, data, prev_hash AS "prevHash", hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`,
          [cursor, BATCH],
        );
        for (const row of rows) {
          if (this.stopping || Date.now() - started > SEND_WINDOW_MS) return;
          const entry: AuditEntry = { ...row, seq: Number(row.seq) };
          const event: NotificationEvent<AuditEntry> = { type: 'audit.entry', id: `msg_audit_${entry.seq}_${entry.hash.slice(0, 16)}`, timestamp: this.ctx.now().toISOString(), data: entry };
          await sendWebhook(channel.config.url, secret.signingSecret, event, this.ctx.now());
          await db.query('UPDATE notification_channels SET audit_cursor = $2, last_error = NULL WHERE id = $1', [channel.id, entry.seq]);
          cursor = entry.seq;
        }
        if (rows.length < BATCH) return;
      }
    } catch (error) {
      failed = true;
      const message = error instanceof Error ? error.message : String(error);
      await db.query(`UPDATE notification_channels SET last_error = $2, audit_lease_until = now() + $3 * interval '1 second' WHERE id = $1`, [channel.id, `audit entry ${cursor + 1}: ${message}`, RETRY_AFTER_SECONDS]);
      this.ctx.log.warn({ channelId: channel.id, seq: cursor + 1, error: message }, 'audit entry not delivered');
      return;
    } finally {
      // A failure keeps the lease until its retry time (set above).
      if (!failed) await db.query('UPDATE notification_channels SET audit_lease_until = NULL WHERE id = $1', [channel.id]);
    }
  }
}
