import type { EntityManager } from 'typeorm';
import type { DeliveryStatus, NotificationChannelKind, NotificationEventType } from '#libs/contracts';
import { isUuid } from '../users/accounts.repository.js';

/** TypeORM answers a bare UPDATE or DELETE … RETURNING with [rows, count]: those are wrapped in a SELECT. */
type Db = Pick<EntityManager, 'query'>;

export interface ChannelRow {
  id: string;
  name: string;
  kind: NotificationChannelKind;
  /** what may be shown: webhook `{url}`, email `{to?}`, slack `{}` */
  config: { url?: string; to?: string };
  /** webhook `{signingSecret}`, slack `{webhookUrl}` sealed under the master key for this channel id; null for email */
  secretSealed: string | null;
  events: NotificationEventType[];
  auditCursor: string;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryRow {
  id: string;
  channelId: string;
  eventId: string;
  eventType: string;
  recipient: string;
  payload: unknown;
  payloadMac: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

const CHANNEL_COLUMNS = `id, name, kind, config, secret_sealed AS "secretSealed", events, audit_cursor AS "auditCursor", last_error AS "lastError",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

const DELIVERY_COLUMNS = `id, channel_id AS "channelId", event_id AS "eventId", event_type AS "eventType", recipient, payload, payload_mac AS "payloadMac", status, attempts,
  last_error AS "lastError", created_at AS "createdAt", delivered_at AS "deliveredAt"`;

export async function insertChannel(db: Db, row: Omit<ChannelRow, 'createdAt' | 'updatedAt' | 'auditCursor' | 'lastError'> & { createdBy: string }): Promise<ChannelRow | undefined> {
  const rows: ChannelRow[] = await db.query(
    `INSERT INTO notification_channels (id, name, kind, config, secret_sealed, events, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (name) DO NOTHING RETURNING ${CHANNEL_COLUMNS}`,
    [row.id, row.name, row.kind, row.config, row.secretSealed, row.events, row.createdBy],
  );
  return rows[0];
}

export async function findChannel(db: Db, id: string, lock = false): Promise<ChannelRow | undefined> {
  if (!isUuid(id)) return undefined;
  const rows: ChannelRow[] = await db.query(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

export async function listChannels(db: Db): Promise<ChannelRow[]> {
  return db.query(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels ORDER BY name`);
}

export async function channelsFor(db: Db, type: string): Promise<ChannelRow[]> {
  return db.query(`SELECT ${CHANNEL_COLUMNS} FROM notification_channels WHERE $1 = ANY (events) ORDER BY id`, [type]);
}

export async function updateChannel(db: Db, id: string, change: { name: string; config: ChannelRow['config']; secretSealed: string | null; events: NotificationEventType[] }): Promise<ChannelRow | undefined> {
  const rows: ChannelRow[] = await db.query(
    `WITH updated AS (UPDATE notification_channels SET name = $2, config = $3, secret_sealed = $4, events = $5, updated_at = now() WHERE id = $1 RETURNING *)
     SELECT ${CHANNEL_COLUMNS} FROM updated`,
    [id, change.name, change.config, change.secretSealed, change.events],
  );
  return rows[0];
}

export async function deleteChannel(db: Db, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const rows: unknown[] = await db.query('WITH deleted AS (DELETE FROM notification_channels WHERE id = $1 RETURNING id) SELECT id FROM deleted', [id]);
  return rows.length === 1;
}

export async function listDeliveries(db: Db, channelId: string, limit: number): Promise<DeliveryRow[]> {
  return db.query(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries WHERE channel_id = $1 ORDER BY created_at DESC, id LIMIT $2`, [channelId, limit]);
}

/** The delivery with its channel; undefined once the channel is deleted. */
export async function findDelivery(db: Db, id: string): Promise<{ delivery: DeliveryRow; channel: ChannelRow } | undefined> {
  const rows: DeliveryRow[] = await db.query(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries WHERE id = $1`, [id]);
  const delivery = rows[0];
  if (delivery === undefined) return undefined;
  const channel = await findChannel(db, delivery.channelId);
  return channel === undefined ? undefined : { delivery, channel };
}

/** Inserts the delivery unless this (channel, event, recipient) has one already: the id only when it is new. */
/** What a delivery's MAC vouches for: where it goes and what it says. */
export function deliveryMacSubject(row: Pick<DeliveryRow, 'channelId' | 'eventId' | 'eventType' | 'recipient' | 'payload'>): unknown {
  return { channelId: row.channelId, eventId: row.eventId, eventType: row.eventType, recipient: row.recipient, payload: row.payload };
}

export async function insertDelivery(
  db: Db,
  row: { channelId: string; eventId: string; eventType: string; recipient: string; payload: unknown; payloadMac: string },
): Promise<string | undefined> {
  const rows: { id: string }[] = await db.query(
    `INSERT INTO notification_deliveries (channel_id, event_id, event_type, recipient, payload, payload_mac) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (channel_id, event_id, recipient) DO NOTHING RETURNING id`,
    [row.channelId, row.eventId, row.eventType, row.recipient, row.payload, row.payloadMac],
  );
  return rows[0]?.id;
}

export async function recordAttempt(db: Db, id: string, outcome: { status: DeliveryStatus; error: string | null }): Promise<void> {
  await db.query(
    `UPDATE notification_deliveries SET status = $2, attempts = attempts + 1, last_error = COALESCE($3, last_error), updated_at = now(),
       delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END
     WHERE id = $1 AND status = 'pending'`,
    [id, outcome.status, outcome.error],
  );
}

export async function giveUp(db: Db, id: string, reason: string): Promise<void> {
  await db.query(`UPDATE notification_deliveries SET status = 'failed', last_error = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`, [id, reason]);
}
