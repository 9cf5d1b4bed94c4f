import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateQuorumCore1763900100000 implements MigrationInterface {
  name = 'CreateQuorumCore1763900100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credentials (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
        kind text NOT NULL CHECK (kind IN ('signing-key', 'http-token', 'kubeconfig', 'ssh-key', 'postgres')),
        config jsonb NOT NULL DEFAULT '{}',
        public_info jsonb NOT NULL DEFAULT '{}',
        version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
        threshold integer NOT NULL CHECK (threshold >= 1),
        share_count integer NOT NULL CHECK (share_count >= threshold AND share_count <= 255),
        sealed_secret text NOT NULL,
        created_by uuid REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE credential_shares (
        credential_id uuid NOT NULL REFERENCES credentials(id),
        version integer NOT NULL,
        share_index integer NOT NULL CHECK (share_index >= 1),
        custodian_id uuid NOT NULL REFERENCES users(id),
        envelope text NOT NULL,
        commitment text NOT NULL CHECK (commitment ~ '^[0-9a-f]{64}$'),
        PRIMARY KEY (credential_id, version, share_index),
        UNIQUE (credential_id, version, custodian_id)
      )`);
    await q.query(`
      CREATE TABLE policies (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
        credential_id uuid NOT NULL REFERENCES credentials(id),
        operations jsonb NOT NULL CHECK (jsonb_typeof(operations) = 'array' AND jsonb_array_length(operations) > 0),
        approvals jsonb NOT NULL,
        requesters jsonb,
        request_ttl_seconds integer NOT NULL CHECK (request_ttl_seconds BETWEEN 60 AND 604800),
        created_by uuid REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE requests (
        id uuid PRIMARY KEY,
        credential_id uuid NOT NULL REFERENCES credentials(id),
        credential_version integer NOT NULL,
        policy_id uuid NOT NULL REFERENCES policies(id),
        operation jsonb NOT NULL,
        requester_id uuid NOT NULL,
        requester_kind text NOT NULL CHECK (requester_kind IN ('user', 'service_account')),
        reason text NOT NULL,
        digest text NOT NULL,
        digest_input jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'approved', 'executing', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled')),
        request_key jsonb NOT NULL,
        request_private_key_sealed text,
        expires_at timestamptz NOT NULL,
        idempotency_key text,
        idempotency_fingerprint text,
        result jsonb,
        executing_since timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        UNIQUE (requester_id, idempotency_key),
        -- Crypto-shredding (spec 2.8): a request that has ended keeps no request private key.
        CHECK (status IN ('pending', 'approved', 'executing') OR request_private_key_sealed IS NULL)
      )`);
    await q.query(`CREATE INDEX requests_status_expires ON requests (status, expires_at)`);
    await q.query(`
      CREATE TABLE approvals (
        request_id uuid NOT NULL REFERENCES requests(id),
        approver_id uuid NOT NULL REFERENCES users(id),
        decision text NOT NULL CHECK (decision IN ('approve', 'reject')),
        statement text NOT NULL,
        share_envelope text,
        share_index integer,
        valid boolean NOT NULL DEFAULT true,
        invalid_reason text,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (request_id, approver_id),
        CHECK ((decision = 'approve') = (share_envelope IS NOT NULL AND share_index IS NOT NULL))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE approvals');
    await q.query('DROP TABLE requests');
    await q.query('DROP TABLE policies');
    await q.query('DROP TABLE credential_shares');
    await q.query('DROP TABLE credentials');
  }
}
