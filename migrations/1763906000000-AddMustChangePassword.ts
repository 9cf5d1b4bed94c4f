import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 19 item 2: a password an admin chose (a new user's, a reset one, the bootstrap
 * admin's) must be replaced by its owner before anything else (docs/adr/0013). Accounts
 * that exist already keep working: the flag starts false. A single sign-on user has no
 * password here, so never the flag.
 */
export class AddMustChangePassword1763906000000 implements MigrationInterface {
  name = 'AddMustChangePassword1763906000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false');
    await q.query('ALTER TABLE users ADD CONSTRAINT users_must_change_password_needs_password CHECK (NOT must_change_password OR password_hash IS NOT NULL)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users DROP COLUMN must_change_password');
  }
}
