import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `credential.margin_low` is announced once per stretch below 1 of one credential version
 * (issue 16): a row while the margin is below 1, removed when a check finds it back at 1 or
 * more; a re-share starts a new version and so a new stretch. `episode` keys the event id,
 * so two workers (or a retried job) announce it once.
 */
export class AddMarginAlerts1763908000000 implements MigrationInterface {
  name = 'AddMarginAlerts1763908000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credential_margin_alerts (
        credential_id uuid NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
        version integer NOT NULL CHECK (version >= 1),
        episode uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        announced_at timestamptz,
        PRIMARY KEY (credential_id, version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE credential_margin_alerts');
  }
}
