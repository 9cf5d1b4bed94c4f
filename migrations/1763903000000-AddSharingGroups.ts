import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Grouped sharing (spec §3a, issue 17). A credential keeps its groups' names and
 * thresholds in order (`sharing_groups`, null on credentials made before: one group
 * named `custodians` with the credential's threshold); each share row its 0-based
 * group (`share_group`, null for one group, whose formats are unchanged). Share
 * indexes restart at 1 in each group, so a share is identified by (group, index).
 * `credentials.threshold` holds Σtⱼ, the least `approvals.min` a policy may ask.
 */
export class AddSharingGroups1763903000000 implements MigrationInterface {
  name = 'AddSharingGroups1763903000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credentials ADD COLUMN sharing_groups jsonb CHECK (sharing_groups IS NULL OR (jsonb_typeof(sharing_groups) = 'array' AND jsonb_array_length(sharing_groups) BETWEEN 1 AND 16))`);
    // 16 groups of 32: more shares than one group's 255.
    await dropChecksMentioning(q, 'credentials', 'share_count');
    await q.query(`ALTER TABLE credentials ADD CONSTRAINT credentials_share_count CHECK (share_count >= threshold AND share_count <= 512)`);
    await q.query(`ALTER TABLE credential_shares ADD COLUMN share_group integer CHECK (share_group BETWEEN 0 AND 15)`);
    await q.query(`ALTER TABLE credential_shares DROP CONSTRAINT credential_shares_pkey`);
    await q.query(`CREATE UNIQUE INDEX credential_shares_slot ON credential_shares (credential_id, version, (COALESCE(share_group, -1)), share_index)`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Grouped credentials cannot be expressed before this migration: they go, with what refers to them.
    await q.query(`DELETE FROM approvals WHERE request_id IN (SELECT r.id FROM requests r JOIN credentials c ON c.id = r.credential_id WHERE jsonb_array_length(COALESCE(c.sharing_groups, '[]')) > 1)`);
    await q.query(`DELETE FROM requests WHERE credential_id IN (SELECT id FROM credentials WHERE jsonb_array_length(COALESCE(sharing_groups, '[]')) > 1)`);
    await q.query(`DELETE FROM policies WHERE credential_id IN (SELECT id FROM credentials WHERE jsonb_array_length(COALESCE(sharing_groups, '[]')) > 1)`);
    await q.query(`DELETE FROM credential_shares WHERE credential_id IN (SELECT id FROM credentials WHERE jsonb_array_length(COALESCE(sharing_groups, '[]')) > 1)`);
    await q.query(`DELETE FROM credentials WHERE jsonb_array_length(COALESCE(sharing_groups, '[]')) > 1`);
    await q.query(`DROP INDEX credential_shares_slot`);
    await q.query(`ALTER TABLE credential_shares ADD PRIMARY KEY (credential_id, version, share_index)`);
    await q.query(`ALTER TABLE credential_shares DROP COLUMN share_group`);
    await q.query(`ALTER TABLE credentials DROP COLUMN sharing_groups`);
    await q.query(`ALTER TABLE credentials DROP CONSTRAINT credentials_share_count`);
    await q.query(`ALTER TABLE credentials ADD CHECK (share_count >= threshold AND share_count <= 255)`);
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
