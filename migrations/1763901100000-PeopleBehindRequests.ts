import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15 item 7: a service account has an owner, a person who counts as its requester
 * for the no-self-approval rule; each request records the owner at submission, and each
 * approval the voter's groups at the vote, so that later account changes do not change
 * what a request needs or how the decisions already cast count.
 */
export class PeopleBehindRequests1763901100000 implements MigrationInterface {
  name = 'PeopleBehindRequests1763901100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE service_accounts ADD COLUMN owner_id uuid REFERENCES users(id)');
    await q.query('UPDATE service_accounts SET owner_id = created_by');
    await q.query('ALTER TABLE requests ADD COLUMN requester_owner_id uuid');
    await q.query(`UPDATE requests r SET requester_owner_id = a.owner_id FROM service_accounts a WHERE r.requester_kind = 'service_account' AND a.id = r.requester_id`);
    await q.query(`ALTER TABLE approvals ADD COLUMN voter_groups text[] NOT NULL DEFAULT '{}'`);
    await q.query('UPDATE approvals a SET voter_groups = u.groups FROM users u WHERE u.id = a.approver_id');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE approvals DROP COLUMN voter_groups');
    await q.query('ALTER TABLE requests DROP COLUMN requester_owner_id');
    await q.query('ALTER TABLE service_accounts DROP COLUMN owner_id');
  }
}
