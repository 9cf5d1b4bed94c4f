import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Credential versions, re-sharing and rotation (spec §4a, issue 16, ADR 0017). The
 * credential row stays the current version; the history is the audit log.
 * - `policies.custody`: the one policy per credential that governs
 *   `credential.reshare` and `credential.rotate`; existing credentials get theirs here
 *   (min Σtⱼ, requesters role security_lead, 24 h).
 * - `policies.disabled_reason`: `policy_outdated` once a new version makes the policy
 *   impossible (its min above the new number of custodians).
 * - `intake_keys`: one-time P-256 keys a rotation's new secret is sealed to; the
 *   private key only sealed under the master key, claimed by one request.
 */
export class AddCredentialVersions1763907000000 implements MigrationInterface {
  name = 'AddCredentialVersions1763907000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE policies ADD COLUMN custody boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE policies ADD COLUMN disabled_reason text CHECK (disabled_reason IN ('policy_outdated'))`);
    await q.query(`CREATE UNIQUE INDEX policies_one_custody ON policies (credential_id) WHERE custody`);
    await q.query(`
      INSERT INTO policies (name, credential_id, operations, approvals, requesters, request_ttl_seconds, custody)
      SELECT 'custody-' || c.id::text, c.id, '[{"kind":"credential.reshare"},{"kind":"credential.rotate"}]'::jsonb,
             jsonb_build_object('min', c.threshold, 'allowRequesterApproval', false), '{"roles":["security_lead"]}'::jsonb, 86400, true
        FROM credentials c
       WHERE NOT EXISTS (SELECT 1 FROM policies p WHERE p.credential_id = c.id AND p.custody)`);
    await q.query(`
      CREATE TABLE intake_keys (
        kid text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{43}$'),
        credential_id uuid NOT NULL REFERENCES credentials(id),
        credential_version integer NOT NULL,
        private_key_sealed text,
        created_by uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        claimed_by_request uuid,
        claimed_at timestamptz,
        CHECK ((claimed_by_request IS NULL) = (claimed_at IS NULL))
      )`);
    await q.query(`CREATE INDEX intake_keys_expires_at ON intake_keys (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE intake_keys');
    await q.query(`DELETE FROM approvals WHERE request_id IN (SELECT r.id FROM requests r JOIN policies p ON p.id = r.policy_id WHERE p.custody)`);
    await q.query(`DELETE FROM requests WHERE policy_id IN (SELECT id FROM policies WHERE custody)`);
    await q.query(`DELETE FROM policies WHERE custody`);
    await q.query('DROP INDEX policies_one_custody');
    await q.query('ALTER TABLE policies DROP COLUMN disabled_reason');
    await q.query('ALTER TABLE policies DROP COLUMN custody');
  }
}
