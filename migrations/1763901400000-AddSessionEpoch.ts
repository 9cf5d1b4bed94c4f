import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15 item 6: logout and a password change revoke the user's sessions. Every
 * access token names the user's session epoch at its issue; moving the epoch on
 * refuses every token issued before (docs/adr/0016-caps-and-hardening.md).
 */
export class AddSessionEpoch1763901400000 implements MigrationInterface {
  name = 'AddSessionEpoch1763901400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users ADD COLUMN session_epoch integer NOT NULL DEFAULT 0 CHECK (session_epoch >= 0)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users DROP COLUMN session_epoch');
  }
}
