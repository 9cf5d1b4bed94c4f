import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed logins per username and client address, shared by every replica
 * (rate-limiter-flexible's PostgreSQL store; its own schema: key, points, expire in ms).
 */
export class AddLoginFailures1763900500000 implements MigrationInterface {
  name = 'AddLoginFailures1763900500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE login_failures (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE login_failures');
  }
}
