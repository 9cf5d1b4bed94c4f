import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAccounts1763900000000 implements MigrationInterface {
  name = 'CreateAccounts1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
        display_name text NOT NULL,
        password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
        roles text[] NOT NULL CHECK (roles <@ ARRAY['admin','security_lead','operator','requester','auditor']::text[]),
        groups text[] NOT NULL DEFAULT '{}',
        encryption_key jsonb,
        encryption_kid text,
        signing_key jsonb,
        signing_kid text,
        keys_enrolled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((encryption_key IS NULL) = (signing_key IS NULL)),
        CHECK (encryption_key IS NULL OR NOT (encryption_key ? 'd')),
        CHECK (signing_key IS NULL OR NOT (signing_key ? 'd'))
      )`);
    await q.query(`
      CREATE TABLE service_accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
        roles text[] NOT NULL CHECK (roles <@ ARRAY['admin','security_lead','operator','requester','auditor']::text[]),
        token_hmac text NOT NULL UNIQUE CHECK (token_hmac ~ '^[0-9a-f]{64}$'),
        created_by uuid REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE gateway_keys (
        purpose text PRIMARY KEY,
        kid text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The audit log is append-only: the trigger refuses UPDATE, DELETE and TRUNCATE.
    await q.query(`
      CREATE TABLE audit_log (
        seq bigint PRIMARY KEY,
        at text NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        subject text NOT NULL,
        data jsonb NOT NULL,
        prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
        hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
      )`);
    await q.query(`
      CREATE TABLE audit_head (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        seq bigint NOT NULL,
        hash text NOT NULL
      )`);
    await q.query(`INSERT INTO audit_head (id, seq, hash) VALUES (true, 0, repeat('0', 64))`);
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
    await q.query(`
      CREATE TABLE audit_checkpoints (
        seq bigint PRIMARY KEY REFERENCES audit_log(seq),
        head_hash text NOT NULL,
        at text NOT NULL,
        jws text NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_checkpoints');
    await q.query('DROP TABLE audit_log');
    await q.query('DROP FUNCTION audit_log_append_only');
    await q.query('DROP TABLE audit_head');
    await q.query('DROP TABLE gateway_keys');
    await q.query('DROP TABLE service_accounts');
    await q.query('DROP TABLE users');
  }
}
