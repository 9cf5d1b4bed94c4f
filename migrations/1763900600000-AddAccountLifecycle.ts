import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A user can be disabled (and enabled again); a service account revoked for good. Rows stay: the audit log and past requests name them. */
export class AddAccountLifecycle1763900600000 implements MigrationInterface {
  name = 'AddAccountLifecycle1763900600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN disabled_at timestamptz`);
    await q.query(`ALTER TABLE service_accounts ADD COLUMN revoked_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE service_accounts DROP COLUMN revoked_at');
    await q.query('ALTER TABLE users DROP COLUMN disabled_at');
  }
}
