import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Appends a transaction's audit entries under the chain head's lock in one statement:
 * the head stays locked from this statement to the commit, and every state change of
 * every replica waits for it, so no round trip to the gateway may fall in between
 * (docs/adr/0005). Each entry comes as its canonical JSON around prevHash and seq
 * (libs/audit `entryHashTemplate`); the hash is libs/audit's computeEntryHash.
 */
export class ChainAuditInDatabase1763900400000 implements MigrationInterface {
  name = 'ChainAuditInDatabase1763900400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION append_audit_entries(p_at text[], p_actor text[], p_action text[], p_subject text[], p_data jsonb[], p_head text[], p_tail text[])
      RETURNS bigint LANGUAGE plpgsql AS $$
      DECLARE
        v_seq bigint;
        v_hash text;
        v_next text;
      BEGIN
        SELECT seq, hash INTO v_seq, v_hash FROM audit_head WHERE id FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'audit_head row is missing';
        END IF;
        FOR i IN 1 .. coalesce(array_length(p_at, 1), 0) LOOP
          v_seq := v_seq + 1;
          v_next := encode(sha256(convert_to(v_hash || p_head[i] || v_hash || '","seq":' || v_seq::text || p_tail[i], 'UTF8')), 'hex');
          INSERT INTO audit_log (seq, at, actor, action, subject, data, prev_hash, hash)
            VALUES (v_seq, p_at[i], p_actor[i], p_action[i], p_subject[i], p_data[i], v_hash, v_next);
          v_hash := v_next;
        END LOOP;
        UPDATE audit_head SET seq = v_seq, hash = v_hash WHERE id;
        RETURN v_seq;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION append_audit_entries');
  }
}
