import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Spec revision 2, §2 items 10, 11 and 14. A request keeps the policy that admitted
 * it (its hash is in the signed digest input); its public key is derived from the
 * sealed private key, so no column holds one a database writer could swap; an
 * approval's share envelope is destroyed as soon as the execution has rebuilt the
 * credential, so an approval may outlive its envelope.
 */
export class BindRequestsToWhatWasSigned1763900800000 implements MigrationInterface {
  name = 'BindRequestsToWhatWasSigned1763900800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE requests ADD COLUMN policy_snapshot jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE requests ALTER COLUMN policy_snapshot DROP DEFAULT`);
    await q.query(`ALTER TABLE requests DROP COLUMN request_key`);
    await dropChecksMentioning(q, 'approvals', 'share_envelope');
    await q.query(`ALTER TABLE approvals ADD CONSTRAINT approvals_share_only_with_approval CHECK (decision = 'approve' OR (share_envelope IS NULL AND share_index IS NULL))`);
    await q.query(`ALTER TABLE approvals ADD CONSTRAINT approvals_approval_has_index CHECK (decision = 'reject' OR share_index IS NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE approvals DROP CONSTRAINT approvals_approval_has_index`);
    await q.query(`ALTER TABLE approvals DROP CONSTRAINT approvals_share_only_with_approval`);
    await q.query(`DELETE FROM approvals WHERE decision = 'approve' AND share_envelope IS NULL`);
    await q.query(`ALTER TABLE approvals ADD CHECK ((decision = 'approve') = (share_envelope IS NOT NULL AND share_index IS NOT NULL))`);
    await q.query(`ALTER TABLE requests ADD COLUMN request_key jsonb`);
    await q.query(`ALTER TABLE requests DROP COLUMN policy_snapshot`);
  }
}

/** The unnamed CHECKs of a table on a column (their generated names are the server's choice). */
async function dropChecksMentioning(q: QueryRunner, table: string, column: string): Promise<void> {
  const rows: { conname: string; def: string }[] = await q.query(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'`,
    [table],
  );
  for (const { conname, def } of rows) if (def.includes(column)) await q.query(`ALTER TABLE ${table} DROP CONSTRAINT "${conname}"`);
}
