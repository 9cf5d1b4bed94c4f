import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 19 item 3: a security lead deletes a policy nothing in flight uses. Past
 * requests keep naming it (requests.policy_id, the audit log), so the row stays,
 * marked deleted: no list, page or submission sees it again, and its name is free.
 */
export class SoftDeletePolicies1763909800000 implements MigrationInterface {
  name = 'SoftDeletePolicies1763909800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE policies ADD COLUMN deleted_at timestamptz');
    await q.query('ALTER TABLE policies DROP CONSTRAINT policies_name_key');
    await q.query('CREATE UNIQUE INDEX policies_live_name ON policies (name) WHERE deleted_at IS NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX policies_live_name');
    await q.query(`UPDATE policies SET name = left(name, 50) || '-deleted-' || substr(md5(id::text), 1, 4) WHERE deleted_at IS NOT NULL`);
    await q.query('ALTER TABLE policies ADD CONSTRAINT policies_name_key UNIQUE (name)');
    await q.query('ALTER TABLE policies DROP COLUMN deleted_at');
  }
}
