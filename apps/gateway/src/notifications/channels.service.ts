import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { openWithMasterKey, sealWithMasterKey, zeroize } from '#libs/crypto';
import { REQUEST_EVENT_TYPES, assertUnreachable, type NotificationChannelKind, type NotificationEventType } from '#libs/contracts';
import { ChannelSubscriptions } from './channel-subscriptions.js';
import { AuditWriter } from '../audit/audit-writer.js';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { deleteChannel, findChannel, insertChannel, listChannels, listDeliveries, updateChannel, type ChannelRow, type DeliveryRow } from './channels.repository.js';

/** What a channel keeps sealed: a webhook's signing secret, a Slack incoming-webhook URL (which is itself the credential). */
export type ChannelSecret = { signingSecret: string } | { webhookUrl: string };

/** The additional data a channel's secret is sealed with: it opens for this channel only. */
function channelPurpose(channelId: string): string {
  return `notification-channel:${channelId}`;
}

export async function openChannelSecret(masterKey: Buffer, channel: Pick<ChannelRow, 'id' | 'secretSealed'>): Promise<ChannelSecret> {
  if (channel.secretSealed === null) throw new TypeError('this channel has no secret');
  const bytes = await openWithMasterKey(channel.secretSealed, masterKey, channelPurpose(channel.id));
  try {
    return JSON.parse(bytes.toString('utf8')) as ChannelSecret;
  } finally {
    zeroize(bytes);
  }
}

async function sealChannelSecret(masterKey: Buffer, channelId: string, secret: ChannelSecret): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(secret));
  try {
    return await sealWithMasterKey(bytes, masterKey, channelPurpose(channelId));
  } finally {
    zeroize(bytes);
  }
}

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function parseUrl(raw: unknown, field: string, httpsOnly: boolean): string {
  if (typeof raw !== 'string' || raw.length > 2048) throw new AppError('VALIDATION_FAILED', `config.${field} must be a URL`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('VALIDATION_FAILED', `config.${field} must be an absolute URL`);
  }
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:' && (!httpsOnly || LOOPBACK_HOSTS.has(url.hostname))) return url.href;
  throw new AppError('VALIDATION_FAILED', httpsOnly ? `config.${field} must be an https:// URL (http:// only on a loopback host)` : `config.${field} must be an http:// or https:// URL`);
}

const EMAIL = /^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/;

function onlyKeys(config: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(config).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new AppError('VALIDATION_FAILED', `config has unknown field(s): ${extra.join(', ')}`);
}

/** Splits a channel's config into what is shown and what is sealed; refuses a config that does not fit its kind. */
function readConfig(kind: NotificationChannelKind, config: Record<string, unknown>): { shown: ChannelRow['config']; webhookUrl?: string } {
  switch (kind) {
    case 'webhook':
      onlyKeys(config, ['url']);
      return { shown: { url: parseUrl(config['url'], 'url', false) } };
    case 'slack':
      onlyKeys(config, ['webhookUrl']);
      return { shown: {}, webhookUrl: parseUrl(config['webhookUrl'], 'webhookUrl', true) };
    case 'email': {
      onlyKeys(config, ['to']);
      const to = config['to'];
      if (to === undefined) return { shown: {} };
      if (typeof to !== 'string' || to.length > 254 || !EMAIL.test(to)) throw new AppError('VALIDATION_FAILED', 'config.to must be an email address');
      return { shown: { to } };
    }
    default:
      return assertUnreachable(kind, 'notification channel kind');
  }
}

function checkEvents(kind: NotificationChannelKind, events: NotificationEventType[]): void {
  if (events.includes('audit.entry') && kind !== 'webhook') throw new AppError('VALIDATION_FAILED', 'only a webhook channel may subscribe to audit.entry');
}

/**
 * Notification channels (admin). Enforces: a webhook's signing secret and a Slack URL
 * are sealed under the master key, bound to the channel's id, and leave the gateway
 * only once — the signing secret in the answer that creates the channel; the config
 * fits its kind; only webhooks carry the audit stream.
 */
@Injectable()
export class ChannelsService {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
    private readonly subscriptions: ChannelSubscriptions,
  ) {}

  async create(actor: Principal, input: { name: string; kind: NotificationChannelKind; config: Record<string, unknown>; events?: NotificationEventType[] }): Promise<{ channel: ChannelRow; signingSecret?: string }> {
    const events = input.events ?? [...REQUEST_EVENT_TYPES];
    checkEvents(input.kind, events);
    const { shown, webhookUrl } = readConfig(input.kind, input.config);
    const id = randomUUID();
    const signingSecret = input.kind === 'webhook' ? newSigningSecret() : undefined;
    const secret: ChannelSecret | undefined = signingSecret !== undefined ? { signingSecret } : webhookUrl !== undefined ? { webhookUrl } : undefined;
    const secretSealed = secret === undefined ? null : await sealChannelSecret(this.ctx.masterKey, id, secret);
    const channel = await this.audit.transaction(async (tx) => {
      const row = await insertChannel(tx, { id, name: input.name, kind: input.kind, config: shown, secretSealed, events, createdBy: actor.id });
      if (row === undefined) throw new AppError('NAME_TAKEN', `a notification channel named "${input.name}" already exists`);
      this.subscriptions.changed(tx);
      await this.audit.append(tx, { actor: actor.id, action: 'notification_channel.created', subject: `notification_channel:${id}`, data: { name: input.name, kind: input.kind, events, config: shown } });
      return row;
    });
    return signingSecret !== undefined ? { channel, signingSecret } : { channel };
  }

  list(): Promise<ChannelRow[]> {
    return listChannels(this.ctx.dataSource);
  }

  async get(id: string): Promise<ChannelRow> {
    const channel = await findChannel(this.ctx.dataSource, id);
    if (channel === undefined) throw new AppError('NOT_FOUND', 'no such notification channel');
    return channel;
  }

  async update(actor: Principal, id: string, change: { name?: string; config?: Record<string, unknown>; events?: NotificationEventType[] }): Promise<ChannelRow> {
    return this.audit.transaction(async (tx) => {
      const channel = await findChannel(tx, id, true);
      if (channel === undefined) throw new AppError('NOT_FOUND', 'no such notification channel');
      const events = change.events ?? channel.events;
      checkEvents(channel.kind, events);
      let config = channel.config;
      let secretSealed = channel.secretSealed;
      if (change.config !== undefined) {
        const read = readConfig(channel.kind, change.config);
        config = read.shown;
        if (read.webhookUrl !== undefined) secretSealed = await sealChannelSecret(this.ctx.masterKey, channel.id, { webhookUrl: read.webhookUrl });
      }
      const name = change.name ?? channel.name;
      if (name !== channel.name) {
        const taken: unknown[] = await tx.query('SELECT 1 FROM notification_channels WHERE name = $1', [name]);
        if (taken.length > 0) throw new AppError('NAME_TAKEN', `a notification channel named "${name}" already exists`);
      }
      const updated = await updateChannel(tx, channel.id, { name, config, secretSealed, events });
      if (updated === undefined) throw new AppError('NOT_FOUND', 'no such notification channel');
      this.subscriptions.changed(tx);
      await this.audit.append(tx, {
        actor: actor.id,
        action: 'notification_channel.updated',
        subject: `notification_channel:${channel.id}`,
        data: { name, events, config, ...(change.config !== undefined && channel.kind === 'slack' ? { webhookUrlChanged: true } : {}) },
      });
      return updated;
    });
  }

  async delete(actor: Principal, id: string): Promise<void> {
    await this.audit.transaction(async (tx) => {
      const channel = await findChannel(tx, id, true);
      if (channel === undefined || !(await deleteChannel(tx, id))) throw new AppError('NOT_FOUND', 'no such notification channel');
      this.subscriptions.changed(tx);
      await this.audit.append(tx, { actor: actor.id, action: 'notification_channel.deleted', subject: `notification_channel:${id}`, data: { name: channel.name, kind: channel.kind } });
    });
  }

  async deliveries(id: string, limit: number): Promise<DeliveryRow[]> {
    await this.get(id);
    return listDeliveries(this.ctx.dataSource, id, limit);
  }
}
