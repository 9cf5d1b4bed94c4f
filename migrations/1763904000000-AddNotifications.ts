import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 18, notifications: channels (webhook, Slack, email) whose secrets are sealed
 * under the master key, one delivery row per (channel, event, recipient) — the unique
 * key that makes a delivery happen once whichever replica fans an event out — and the
 * users' optional email address and choice of events to receive by email. `email` may
 * also come from the single-sign-on migration: both add it only if it is missing.
 */
export class AddNotifications1763904000000 implements MigrationInterface {
  name = 'AddNotifications1763904000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users ADD COLUMN IF NOT EXISTS email text');
    // NULL: every event that concerns the user (the default); else exactly these.
    await q.query('ALTER TABLE users ADD COLUMN email_events text[]');
    await q.query(`
      CREATE TABLE notification_channels (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
        kind text NOT NULL CHECK (kind IN ('webhook', 'slack', 'email')),
        config jsonb NOT NULL DEFAULT '{}',
        secret_sealed text,
        events text[] NOT NULL,
        audit_cursor bigint NOT NULL DEFAULT 0,
        audit_lease_until timestamptz,
        last_error text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'email') = (secret_sealed IS NULL)),
        CHECK (kind = 'webhook' OR NOT ('audit.entry' = ANY (events)))
      )`);
    await q.query(`
      CREATE TABLE notification_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        channel_id uuid NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
        event_id text NOT NULL,
        event_type text NOT NULL,
        recipient text NOT NULL DEFAULT '',
        payload jsonb NOT NULL,
        -- MAC (keys/mac-key.ts) over the channel, event, recipient and payload: a row a database writer made or changed is never signed and sent.
        payload_mac text NOT NULL CHECK (payload_mac ~ '^[0-9a-f]{64}$'),
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        UNIQUE (channel_id, event_id, recipient)
      )`);
    await q.query('CREATE INDEX notification_deliveries_by_channel ON notification_deliveries (channel_id, created_at DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE notification_deliveries');
    await q.query('DROP TABLE notification_channels');
    await q.query('ALTER TABLE users DROP COLUMN email_events');
    // `email` stays: single sign-on fills it too, and its own migration owns it as much as this one.
  }
}
