import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { sha256Hex } from '#libs/crypto';
import { REQUEST_EVENT_TYPES, assertUnreachable, type CredentialHealth, type MarginLowEventData, type NotificationEvent, type RequestChange, type RequestEventData, type RequestEventType, type Role } from '#libs/contracts';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { inTransaction, JobQueue } from '../jobs/job-queue.js';
import { findRequestView, type RequestView } from '../requests/requests.repository.js';
import { rowMac, rowMacChecks } from '../keys/mac-key.js';
import { channelsFor, deliveryMacSubject, findChannel, findDelivery, giveUp, insertDelivery, recordAttempt, type ChannelRow } from './channels.repository.js';
import { openChannelSecret } from './channels.service.js';
import { eventTypesFor, summarizeOperation } from './notification-content.js';
import { NotificationOutbox } from './notification-outbox.js';
import { createMailer, DeliveryError, sendEmail, sendSlack, sendWebhook, type Mailer } from './senders.js';

export const DELIVERY_QUEUE = 'notification-deliveries';
export const REMINDER_QUEUE = 'request-reminders';

/** A delivery is given up on at its first failure after this long. */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60 * 1000;
/**
 * pg-boss's backoff: about 1, 2, 4 … s, doubling up to 9-18 h between tries; with this
 * many tries the last one falls after a day, when the age check gives up for good.
 */
const DELIVERY_RETRIES = { retryLimit: 20, retryDelay: 1, retryBackoff: true } as const;
/** Longer than a send may take (SEND_TIMEOUT_MS), so pg-boss never hands a delivery still being sent to another worker. */
const DELIVERY_EXPIRY_SECONDS = 120;

/** When reminders go to the custodians who have not decided: at these fractions of the request's time to live. */
const REMINDER_POINTS = [50, 90] as const;

interface Recipient {
  id: string;
  email: string;
}

export interface ReminderJob {
  requestId: string;
  percent: number;
}

/**
 * Turns committed request changes into deliveries, and delivers them.
 *
 * - The outbox (one job per lifecycle transition, in the transition's transaction)
 *   hands each change to `fanOut` on one replica. `fanOut` writes one delivery row per
 *   channel (and per user, for an email channel without `to`) under the unique key
 *   (channel, event id, recipient), and in the same transaction one delivery job per
 *   new row: a retried or duplicated outbox job finds the rows there and sends nothing
 *   twice. The event id is derived from the outbox job's id.
 * - Each delivery job is sent by one worker, after the commit, outside any transaction;
 *   a failure (5xx, timeout, unreachable) is retried with backoff and given up after a
 *   day, a 4xx at once; each attempt's error is kept on the row. A receiver that hangs
 *   holds one worker for SEND_TIMEOUT_MS and nothing on the approval path.
 * - A pending request schedules its reminders (half and 90 % of its time to live),
 *   which go only to the custodians who have not decided, if it is still pending.
 *
 * Events carry the request's summary and link, never a share, envelope, statement,
 * token or result: `requestEventData` lists every field it sends.
 */
@Injectable()
export class NotificationDispatcher implements OnModuleInit, OnApplicationBootstrap {
  private mailer: Mailer | undefined;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly jobs: JobQueue,
    private readonly outbox: NotificationOutbox,
  ) {}

  onModuleInit(): void {
    this.outbox.register((change, key) => this.fanOutChange(change, key));
  }

  async onApplicationBootstrap(): Promise<void> {
    const boss = await this.jobs.queue(DELIVERY_QUEUE, { ...DELIVERY_RETRIES, expireInSeconds: DELIVERY_EXPIRY_SECONDS });
    // Two pollers, each sending its batch concurrently: one dead receiver does not hold up the others' deliveries.
    for (let i = 0; i < 2; i++) {
      await boss.work<{ deliveryId: string }>(DELIVERY_QUEUE, { pollingIntervalSeconds: 1, batchSize: 5, includeMetadata: true }, async (batch) => {
        await Promise.all(batch.map((job) => this.deliverJob(boss, job)));
      });
    }
    await this.jobs.queue(REMINDER_QUEUE, { retryLimit: 5, retryBackoff: true, expireInSeconds: 5 * 60 });
    await boss.work<ReminderJob>(REMINDER_QUEUE, { pollingIntervalSeconds: 2, batchSize: 10 }, async (batch) => {
      for (const job of batch) await this.remind(job.data);
    });
  }

  /** Sends a `notification.test` event through the channel (to the caller's own address for an email channel without `to`). */
  async sendTest(channelId: string, caller: { id: string }): Promise<{ deliveryId: string; eventId: string }> {
    const channel = await findChannel(this.ctx.dataSource, channelId);
    if (channel === undefined) throw new AppError('NOT_FOUND', 'no such notification channel');
    let recipient = '';
    if (channel.kind === 'email' && channel.config.to === undefined) {
      const [me] = await this.usersWithEmail([caller.id]);
      if (me === undefined) throw new AppError('VALIDATION_FAILED', 'this email channel sends to each user\'s own address, and you have none: set it in PUT /api/v1/me/notifications');
      recipient = me.id;
    }
    const event: NotificationEvent = { type: 'notification.test', id: `msg_${randomUUID().replace(/-/g, '')}`, timestamp: this.ctx.now().toISOString(), data: { message: 'quorumgate test notification' } };
    const deliveryId = await this.ctx.dataSource.transaction(async (tx) => {
      const id = await this.insertDelivery(tx, { channelId: channel.id, eventId: event.id, eventType: event.type, recipient, payload: event });
      if (id === undefined) throw new TypeError('a fresh event id collided');
      await this.enqueueDelivery(tx, id);
      return id;
    });
    return { deliveryId, eventId: event.id };
  }

  private async fanOutChange(change: RequestChange, key: string): Promise<void> {
    const view = await findRequestView(this.ctx.dataSource, change.id);
    if (view === undefined) return;
    const types = eventTypesFor(change.status, view.request.operation.kind);
    for (const type of types) await this.fanOut(type, `${key}/${type}`, view, change.status);
    if (change.status === 'pending') await this.scheduleReminders(view);
  }

  private async scheduleReminders(view: RequestView): Promise<void> {
    const start = view.request.createdAt.getTime();
    const ttl = view.request.expiresAt.getTime() - start;
    const now = this.ctx.now().getTime();
    for (const percent of REMINDER_POINTS) {
      const at = new Date(start + (ttl * percent) / 100);
      if (at.getTime() <= now) continue;
      // A request back in pending schedules again; the reminder's event id makes the second one send nothing.
      await this.jobs.started().send(REMINDER_QUEUE, { requestId: view.request.id, percent } satisfies ReminderJob, { startAfter: at });
    }
  }

  /** Public for tests, which cannot wait half a time to live. */
  async remind(job: ReminderJob): Promise<void> {
    const view = await findRequestView(this.ctx.dataSource, job.requestId);
    if (view === undefined || view.request.status !== 'pending' || view.request.expiresAt.getTime() <= this.ctx.now().getTime()) return;
    await this.fanOut('request.reminder', `reminder/${job.requestId}/${job.percent}`, view, 'pending');
  }

  /** Writes the event's deliveries and their jobs in one transaction; a repeat writes nothing. */
  private async fanOut(type: RequestEventType, eventKey: string, view: RequestView, status: RequestChange['status']): Promise<void> {
    const channels = await channelsFor(this.ctx.dataSource, type);
    if (channels.length === 0) return;
    const event: NotificationEvent<RequestEventData> = {
      type,
      id: `msg_${sha256Hex(eventKey).slice(0, 32)}`,
      timestamp: this.ctx.now().toISOString(),
      data: await this.requestEventData(view, status),
    };
    const people = channels.some((c) => c.kind === 'email' && c.config.to === undefined) ? await this.emailRecipients(type, view) : [];
    await this.ctx.dataSource.transaction(async (tx) => {
      for (const channel of channels) {
        for (const recipient of recipientsOn(channel, people)) {
          const id = await this.insertDelivery(tx, { channelId: channel.id, eventId: event.id, eventType: type, recipient, payload: event });
          if (id !== undefined) await this.enqueueDelivery(tx, id);
        }
      }
    });
  }

  /**
   * `credential.margin_low` (margin-watch.ts): to the channels subscribed, and on an email
   * channel without `to`, to every enabled security lead with an address. `eventKey` makes
   * a repeat write nothing. Lists every field it sends: no share, envelope or key.
   */
  async announceMarginLow(health: CredentialHealth & { name: string }, eventKey: string): Promise<void> {
    const channels = await channelsFor(this.ctx.dataSource, 'credential.margin_low');
    if (channels.length === 0) return;
    const data: MarginLowEventData = {
      credential: { id: health.credentialId, name: health.name, version: health.version },
      margin: health.margin,
      notLive: health.groups.flatMap((g) => g.custodians.filter((c) => !c.live).map((c) => ({ userId: c.userId, username: c.username, reasons: c.reasons }))),
      link: `${this.ctx.config.publicUrl ?? ''}/credentials`,
    };
    const event: NotificationEvent<MarginLowEventData> = { type: 'credential.margin_low', id: `msg_${sha256Hex(eventKey).slice(0, 32)}`, timestamp: this.ctx.now().toISOString(), data };
    const people = channels.some((c) => c.kind === 'email' && c.config.to === undefined)
      ? await this.usersWithEmail((await this.ctx.dataSource.query(`SELECT id FROM users WHERE 'security_lead' = ANY (roles)`) as { id: string }[]).map((l) => l.id))
      : [];
    await this.ctx.dataSource.transaction(async (tx) => {
      for (const channel of channels) {
        for (const recipient of recipientsOn(channel, people)) {
          const id = await this.insertDelivery(tx, { channelId: channel.id, eventId: event.id, eventType: event.type, recipient, payload: event });
          if (id !== undefined) await this.enqueueDelivery(tx, id);
        }
      }
    });
  }

  private insertDelivery(tx: EntityManager, row: { channelId: string; eventId: string; eventType: string; recipient: string; payload: NotificationEvent }): Promise<string | undefined> {
    // The payload as PostgreSQL will give it back (jsonb keeps no undefined): what the MAC is checked against at send time.
    const payload = JSON.parse(JSON.stringify(row.payload)) as unknown;
    return insertDelivery(tx, { ...row, payload, payloadMac: rowMac(this.ctx.masterKey, 'notification-delivery', deliveryMacSubject({ ...row, payload })) });
  }

  private async enqueueDelivery(tx: EntityManager, deliveryId: string): Promise<void> {
    await this.jobs.started().send(DELIVERY_QUEUE, { deliveryId }, { ...DELIVERY_RETRIES, expireInSeconds: DELIVERY_EXPIRY_SECONDS, db: inTransaction(tx) });
  }

  /** The request's summary: the fields listed here and nothing else. */
  private async requestEventData(view: RequestView, status: RequestChange['status']): Promise<RequestEventData> {
    const r = view.request;
    const credential: { name: string }[] = await this.ctx.dataSource.query('SELECT name FROM credentials WHERE id = $1', [r.credentialId]);
    const base = this.ctx.config.publicUrl ?? '';
    return {
      request: {
        id: r.id,
        status,
        credential: { id: r.credentialId, name: credential[0]?.name ?? r.credentialId },
        operation: { kind: r.operation.kind, summary: summarizeOperation(r.operation) },
        requester: { id: r.requesterId, name: view.names[r.requesterId] ?? r.requesterId },
        reason: r.reason,
        expiresAt: r.digestInput.expiresAt,
        approvals: { received: view.approvals.filter((a) => a.decision === 'approve' && a.valid).length, required: view.policy.approvals.min },
        link: `${base}/requests/${r.id}`,
      },
    };
  }

  /**
   * Who hears of the event by email, when the channel sends to each user's own address:
   * the custodians who can still decide (pending, reminder), the requester (outcomes),
   * every security lead and the credential's custodians (a reveal). Each only with an
   * address, enabled, and having kept the event on in their preferences.
   */
  private async emailRecipients(type: RequestEventType, view: RequestView): Promise<Recipient[]> {
    const r = view.request;
    const undecided = () => {
      const decided = new Set(view.approvals.map((a) => a.approverId));
      const selfAllowed = view.policy.approvals.allowRequesterApproval === true;
      return view.custodianIds.filter((id) => !decided.has(id) && (selfAllowed || id !== r.requesterId));
    };
    switch (type) {
      case 'request.pending':
      case 'request.reminder':
        return this.usersWithEmail(undecided(), type, 'operator');
      case 'request.approved':
      case 'request.succeeded':
      case 'request.failed':
      case 'request.rejected':
      case 'request.expired':
      case 'request.cancelled':
        return r.requesterKind === 'user' ? this.usersWithEmail([r.requesterId], type) : [];
      case 'request.revealed': {
        const leads: { id: string }[] = await this.ctx.dataSource.query(`SELECT id FROM users WHERE 'security_lead' = ANY (roles)`);
        return this.usersWithEmail([...new Set([...leads.map((l) => l.id), ...view.custodianIds])], type);
      }
      default:
        return assertUnreachable(type, 'request event type');
    }
  }

  private async usersWithEmail(ids: string[], type?: RequestEventType, role?: Role): Promise<Recipient[]> {
    if (ids.length === 0) return [];
    const rows: { id: string; email: string; emailEvents: string[] | null; roles: Role[] }[] = await this.ctx.dataSource.query(
      `SELECT id, email, email_events AS "emailEvents", roles FROM users WHERE id = ANY ($1::uuid[]) AND email IS NOT NULL AND disabled_at IS NULL ORDER BY id`,
      [ids],
    );
    return rows
      .filter((u) => role === undefined || u.roles.includes(role))
      .filter((u) => type === undefined || (u.emailEvents ?? REQUEST_EVENT_TYPES).includes(type))
      .map((u) => ({ id: u.id, email: u.email }));
  }

  private async deliverJob(boss: PgBoss, job: PgBoss.JobWithMetadata<{ deliveryId: string }>): Promise<void> {
    try {
      await this.deliver(job.data.deliveryId, job.retryCount >= job.retryLimit);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await boss.fail(DELIVERY_QUEUE, job.id, { message });
    }
  }

  /** One attempt. Throws to have it retried; records the outcome on the delivery row. */
  private async deliver(deliveryId: string, lastTry: boolean): Promise<void> {
    const db = this.ctx.dataSource;
    const found = await findDelivery(db, deliveryId);
    if (found === undefined || found.delivery.status !== 'pending') return;
    const { delivery, channel } = found;
    // Enforces: the gateway signs and sends only what it wrote itself — never a row a database writer made or changed.
    if (!rowMacChecks(this.ctx.masterKey, 'notification-delivery', deliveryMacSubject(delivery), delivery.payloadMac)) {
      this.ctx.log.error({ deliveryId, channelId: channel.id }, 'notification delivery failed its integrity check: not sent');
      await giveUp(db, delivery.id, 'integrity check failed: the delivery was changed in the database; not sent');
      return;
    }
    if (this.ctx.now().getTime() - delivery.createdAt.getTime() > GIVE_UP_AFTER_MS) {
      await giveUp(db, delivery.id, `given up after a day; last error: ${delivery.lastError ?? 'none'}`);
      return;
    }
    try {
      await this.send(channel, delivery.recipient, delivery.payload as NotificationEvent);
    } catch (error) {
      const failure = error instanceof DeliveryError ? error : new DeliveryError(error instanceof Error ? error.message : 'delivery failed', true);
      const final = !failure.retry || lastTry;
      await recordAttempt(db, delivery.id, { status: final ? 'failed' : 'pending', error: failure.message });
      this.ctx.log.warn({ deliveryId, channelId: channel.id, error: failure.message, final }, 'notification not delivered');
      if (!final) throw failure;
      return;
    }
    await recordAttempt(db, delivery.id, { status: 'delivered', error: null });
  }

  private async send(channel: ChannelRow, recipient: string, event: NotificationEvent): Promise<void> {
    switch (channel.kind) {
      case 'webhook': {
        const secret = await openChannelSecret(this.ctx.masterKey, channel);
        if (!('signingSecret' in secret) || channel.config.url === undefined) throw new DeliveryError('the channel is misconfigured', false);
        return sendWebhook(channel.config.url, secret.signingSecret, event, this.ctx.now());
      }
      case 'slack': {
        const secret = await openChannelSecret(this.ctx.masterKey, channel);
        if (!('webhookUrl' in secret)) throw new DeliveryError('the channel is misconfigured', false);
        return sendSlack(secret.webhookUrl, event);
      }
      case 'email': {
        if (this.ctx.config.smtpUrl === undefined) throw new DeliveryError('QG_SMTP_URL is not set', false);
        const to = channel.config.to ?? (await this.usersWithEmail([recipient]))[0]?.email;
        if (to === undefined) throw new DeliveryError('the user has no email address any more', false);
        this.mailer ??= createMailer(this.ctx.config.smtpUrl);
        return sendEmail(this.mailer, this.fromAddress(), to, event);
      }
      default:
        return assertUnreachable(channel.kind, 'notification channel kind');
    }
  }

  private fromAddress(): string {
    const host = this.ctx.config.publicUrl !== undefined ? new URL(this.ctx.config.publicUrl).hostname : 'localhost';
    return `quorumgate <quorumgate@${host}>`;
  }
}

/** The recipients of one event on one channel: the channel itself, or each user with an address. */
function recipientsOn(channel: ChannelRow, people: Recipient[]): string[] {
  if (channel.kind === 'email' && channel.config.to === undefined) return people.map((p) => p.id);
  return [''];
}
