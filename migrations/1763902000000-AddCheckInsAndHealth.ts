import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Spec §4a check-ins and health: each credential's check-in window, when each share
 * was sealed (the window's start until its custodian checks in), the one-time
 * challenges a check-in answers (only the nonce's SHA-256 is stored: a reader of the
 * database cannot answer one without the custodian's key), and each custodian's
 * latest check-in per credential version.
 */
export class AddCheckInsAndHealth1763902000000 implements MigrationInterface {
  name = 'AddCheckInsAndHealth1763902000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credentials ADD COLUMN check_in_days integer NOT NULL DEFAULT 90 CHECK (check_in_days BETWEEN 1 AND 3650)`);
    await q.query(`ALTER TABLE credential_shares ADD COLUMN sealed_at timestamptz`);
    await q.query(`UPDATE credential_shares s SET sealed_at = c.created_at FROM credentials c WHERE c.id = s.credential_id`);
    await q.query(`ALTER TABLE credential_shares ALTER COLUMN sealed_at SET NOT NULL, ALTER COLUMN sealed_at SET DEFAULT now()`);
    await q.query(`
      CREATE TABLE check_in_challenges (
        nonce_sha256 text PRIMARY KEY CHECK (nonce_sha256 ~ '^[0-9a-f]{64}$'),
        credential_id uuid NOT NULL REFERENCES credentials(id),
        version integer NOT NULL,
        custodian_id uuid NOT NULL REFERENCES users(id),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query(`CREATE INDEX check_in_challenges_expires_at ON check_in_challenges (expires_at)`);
    await q.query(`
      CREATE TABLE check_ins (
        credential_id uuid NOT NULL REFERENCES credentials(id),
        version integer NOT NULL,
        custodian_id uuid NOT NULL REFERENCES users(id),
        share_index integer NOT NULL CHECK (share_index >= 1),
        at timestamptz NOT NULL,
        PRIMARY KEY (credential_id, version, custodian_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE check_ins');
    await q.query('DROP TABLE check_in_challenges');
    await q.query('ALTER TABLE credential_shares DROP COLUMN sealed_at');
    await q.query('ALTER TABLE credentials DROP COLUMN check_in_days');
  }
}
