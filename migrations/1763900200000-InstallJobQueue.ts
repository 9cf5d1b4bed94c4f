import PgBoss from 'pg-boss';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * pg-boss's own schema, installed here rather than by pg-boss at start so that the
 * schema has one owner (these migrations) and replicas start without racing.
 */
export class InstallJobQueue1763900200000 implements MigrationInterface {
  name = 'InstallJobQueue1763900200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(PgBoss.getConstructionPlans('pgboss'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP SCHEMA pgboss CASCADE');
  }
}
