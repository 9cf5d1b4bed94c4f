import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Spec §2 item 11: enrolled keys and share assignments carry a MAC under a key derived
 * from the master key, and the gateway's public signing key is derived from its sealed
 * private key instead of read from a column. Rows from before carry no MAC and fail
 * closed: their users enrol again, their credentials are created anew (there are no
 * deployments to carry along, and a MAC cannot be made here without the master key).
 */
export class MacEnrolledKeysAndShares1763901000000 implements MigrationInterface {
  name = 'MacEnrolledKeysAndShares1763901000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN keys_mac text CHECK (keys_mac ~ '^[0-9a-f]{64}$')`);
    await q.query(`ALTER TABLE credential_shares ADD COLUMN assignment_mac text CHECK (assignment_mac ~ '^[0-9a-f]{64}$')`);
    // Whatever these said, the gateway derives them from the sealed private key.
    await q.query('ALTER TABLE gateway_keys DROP COLUMN kid, DROP COLUMN public_jwk');
  }

  async down(q: QueryRunner): Promise<void> {
    // The public halves cannot be rebuilt without the master key: the previous code
    // generates a new signing key on its next start (sessions end; checkpoints signed
    // before are checked against the JWKS published with them).
    await q.query('DELETE FROM gateway_keys');
    await q.query('ALTER TABLE gateway_keys ADD COLUMN kid text NOT NULL, ADD COLUMN public_jwk jsonb NOT NULL');
    await q.query('ALTER TABLE credential_shares DROP COLUMN assignment_mac');
    await q.query('ALTER TABLE users DROP COLUMN keys_mac');
  }
}
