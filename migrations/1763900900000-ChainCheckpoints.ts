import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Checkpoints chained to each other (spec §2 item 13, §3): payload `{seq, hash, prev, at}`,
 * `prev` the b64u SHA-256 of the previous checkpoint's compact JWS. The table becomes
 * append-only like audit_log, and an insert must extend the newest checkpoint. The existing
 * checkpoints (payload `{seq, headHash, at}`, no `prev`) are dropped: there are no deployments
 * to carry along, and the next checkpoint is signed only after the chain verifies from genesis.
 * Only the JWS counts: the columns are its payload, for SQL and for these constraints.
 */
export class ChainCheckpoints1763900900000 implements MigrationInterface {
  name = 'ChainCheckpoints1763900900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DELETE FROM audit_checkpoints');
    await q.query('ALTER TABLE audit_checkpoints RENAME COLUMN head_hash TO hash');
    await q.query(`
      ALTER TABLE audit_checkpoints
        ADD COLUMN prev text,
        ADD CONSTRAINT audit_checkpoints_hash_format CHECK (hash ~ '^[0-9a-f]{64}$'),
        ADD CONSTRAINT audit_checkpoints_prev_format CHECK (prev IS NULL OR prev ~ '^[A-Za-z0-9_-]{43}$'),
        ADD CONSTRAINT audit_checkpoints_prev_unique UNIQUE (prev),
        ADD CONSTRAINT audit_checkpoints_jws_unique UNIQUE (jws)`);
    // One first checkpoint: two rows with prev NULL would be a fork UNIQUE (prev) lets through.
    await q.query('CREATE UNIQUE INDEX audit_checkpoints_one_first ON audit_checkpoints ((prev IS NULL)) WHERE prev IS NULL');
    await q.query(`
      CREATE FUNCTION audit_checkpoints_extend_newest() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        v_seq bigint;
        v_jws text;
      BEGIN
        SELECT seq, jws INTO v_seq, v_jws FROM audit_checkpoints ORDER BY seq DESC LIMIT 1;
        IF NOT FOUND THEN
          IF NEW.prev IS NOT NULL THEN
            RAISE EXCEPTION 'the first checkpoint has prev null' USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END IF;
        IF NEW.seq <= v_seq THEN
          RAISE EXCEPTION 'a checkpoint covers a later seq than the newest one (%)', v_seq USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.prev IS DISTINCT FROM rtrim(translate(encode(sha256(convert_to(v_jws, 'UTF8')), 'base64'), '+/', '-_'), '=') THEN
          RAISE EXCEPTION 'a checkpoint chains to the newest one (seq %)', v_seq USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_checkpoints_extend_newest BEFORE INSERT ON audit_checkpoints
      FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_extend_newest()`);
    await q.query(`
      CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_checkpoints is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
      FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
      FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER audit_checkpoints_no_truncate ON audit_checkpoints');
    await q.query('DROP TRIGGER audit_checkpoints_no_update_delete ON audit_checkpoints');
    await q.query('DROP TRIGGER audit_checkpoints_extend_newest ON audit_checkpoints');
    await q.query('DROP FUNCTION audit_checkpoints_append_only');
    await q.query('DROP FUNCTION audit_checkpoints_extend_newest');
    // The older code reads `{seq, headHash, at}` payloads only.
    await q.query('DELETE FROM audit_checkpoints');
    await q.query('DROP INDEX audit_checkpoints_one_first');
    await q.query(`
      ALTER TABLE audit_checkpoints
        DROP CONSTRAINT audit_checkpoints_jws_unique,
        DROP CONSTRAINT audit_checkpoints_prev_unique,
        DROP CONSTRAINT audit_checkpoints_prev_format,
        DROP CONSTRAINT audit_checkpoints_hash_format,
        DROP COLUMN prev`);
    await q.query('ALTER TABLE audit_checkpoints RENAME COLUMN hash TO head_hash');
  }
}
