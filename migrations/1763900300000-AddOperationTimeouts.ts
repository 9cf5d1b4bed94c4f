import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A time limit per policy, and the lease an execution holds (its time limit plus a margin). */
export class AddOperationTimeouts1763900300000 implements MigrationInterface {
  name = 'AddOperationTimeouts1763900300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE policies ADD COLUMN operation_timeout_seconds integer CHECK (operation_timeout_seconds BETWEEN 1 AND 3600)`);
    await q.query(`ALTER TABLE requests ADD COLUMN execution_lease_until timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE requests DROP COLUMN execution_lease_until');
    await q.query('ALTER TABLE policies DROP COLUMN operation_timeout_seconds');
  }
}
