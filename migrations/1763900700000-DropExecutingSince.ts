import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Nothing ever read when an execution started: the lease (`execution_lease_until`) is what the sweeper needs. */
export class DropExecutingSince1763900700000 implements MigrationInterface {
  name = 'DropExecutingSince1763900700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE requests DROP COLUMN executing_since');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE requests ADD COLUMN executing_since timestamptz');
  }
}
