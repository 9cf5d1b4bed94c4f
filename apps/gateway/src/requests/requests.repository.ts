import type { JWK } from 'jose';
import type { EntityManager } from 'typeorm';
import type { Operation, RequestStatus } from '#libs/contracts';
import type { RequestDigestInput } from '#libs/crypto';
import type { PolicyDefinition, ShareGroup, Vote, VotedRequest } from '#libs/policy';
import type { OpeningStatement } from '../audit/audit-writer.js';
import type { Principal } from '../auth/principal.js';
import { prepared, queryPrepared, type Db as PreparableDb } from '../persistence/prepared.js';
import { isUuid } from '../users/accounts.repository.js';
import { visibleRequestsSql } from './request-access.js';

type Db = Pick<EntityManager, 'query'>;

export interface RequestRow {
  id: string;
  credentialId: string;
  credentialVersion: number;
  policyId: string;
  operation: Operation;
  requesterId: string;
  requesterKind: 'user' | 'service_account';
  /** the owner of a requesting service account at submission: a person who counts as the requester (no self-approval) */
  requesterOwnerId: string | null;
  reason: string;
  digest: string;
  digestInput: RequestDigestInput;
  status: RequestStatus;
  /** the policy that admitted the request, as it was then: what its decisions are evaluated against */
  policySnapshot: PolicyDefinition;
  requestPrivateKeySealed: string | null;
  expiresAt: Date;
  idempotencyKey: string | null;
  idempotencyFingerprint: string | null;
  result: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface ApprovalRow {
  requestId: string;
  approverId: string;
  decision: 'approve' | 'reject';
  statement: string;
  shareEnvelope: string | null;
  shareIndex: number | null;
  valid: boolean;
  invalidReason: string | null;
  reason: string | null;
  /** the voter's groups when they voted: what the policy's group rules count */
  voterGroups: string[];
  createdAt: Date;
}

const REQUEST_COLUMNS = `id, credential_id AS "credentialId", credential_version AS "credentialVersion", policy_id AS "policyId",
  operation, requester_id AS "requesterId", requester_kind AS "requesterKind", requester_owner_id AS "requesterOwnerId", reason, digest, digest_input AS "digestInput",
  status, policy_snapshot AS "policySnapshot", request_private_key_sealed AS "requestPrivateKeySealed", expires_at AS "expiresAt",
  idempotency_key AS "idempotencyKey", idempotency_fingerprint AS "idempotencyFingerprint", result,
  created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt"`;

const APPROVAL_COLUMNS = `request_id AS "requestId", approver_id AS "approverId", decision, statement, share_envelope AS "shareEnvelope",
  share_index AS "shareIndex", valid, invalid_reason AS "invalidReason", reason, voter_groups AS "voterGroups", created_at AS "createdAt"`;

export interface Custodian {
  userId: string;
  username: string;
  groups: string[];
  index: number;
  /** the 0-based sharing group (spec §3a); null for one group */
  group: number | null;
  commitment: string;
}

/** A request with everything its answers and decisions need: its policy, custodians and decisions. */
export interface RequestView {
  request: RequestRow;
  approvals: ApprovalRow[];
  /** the policy snapshot the request was admitted by */
  policy: PolicyDefinition;
  /** the request's public key, derived from its sealed private key (request-keys.ts); null once destroyed or before it is derived */
  requestKey: JWK | null;
  custodians: Custodian[];
  custodianIds: string[];
  /** the credential's sharing groups' names and thresholds, in `grp` order (one group `custodians` for the flat form) */
  sharingGroups: { name: string; threshold: number }[];
  /** user id → username, for the people a client shows (approvers, custodians, a human requester); a service account's name. */
  names: Record<string, string>;
}

interface ViewRow extends RequestRow {
  viewCustodians: Custodian[];
  viewSharingGroups: { name: string; threshold: number }[] | null;
  viewApprovals: (Omit<ApprovalRow, 'createdAt'> & { createdAt: string })[];
  viewRequesterName: string | null;
}

const VIEW_SELECT = `SELECT ${REQUEST_COLUMNS},
       (SELECT COALESCE(json_agg(json_build_object('userId', s.custodian_id, 'username', u.username, 'groups', u.groups,
                 'index', s.share_index, 'group', s.share_group, 'commitment', s.commitment) ORDER BY s.share_group NULLS FIRST, s.share_index), '[]')
          FROM credential_shares s JOIN users u ON u.id = s.custodian_id
         WHERE s.credential_id = r.credential_id AND s.version = r.credential_version) AS "viewCustodians",
       (SELECT COALESCE(c.sharing_groups, jsonb_build_array(jsonb_build_object('name', 'custodians', 'threshold', c.threshold)))
          FROM credentials c WHERE c.id = r.credential_id) AS "viewSharingGroups",
       (SELECT COALESCE(json_agg(a ORDER BY a."createdAt", a."approverId"), '[]')
          FROM (SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE request_id = r.id) a) AS "viewApprovals",
       COALESCE((SELECT username FROM users WHERE users.id = r.requester_id),
                (SELECT name FROM service_accounts WHERE service_accounts.id = r.requester_id)) AS "viewRequesterName"`;

/** A request with its policy, custodians and decisions in one statement: each round trip costs more than the rows it carries. */
const viewOf = (where: string) => `${VIEW_SELECT} FROM requests r WHERE ${where}`;

const REQUEST_VIEW = prepared('qg_request_view', viewOf('r.id = $1'));
const REQUEST_VIEWS = prepared('qg_request_views', viewOf('r.id = ANY($1::uuid[])'));
const LOCK_REQUEST = prepared('qg_lock_request', 'SELECT id FROM requests WHERE id = $1 FOR UPDATE');

/**
 * One request with everything its answers and decisions need. `lock` first takes the
 * row lock (FOR UPDATE) for a decision or a state change, in a statement of its own:
 * one that waited for a lock still reads the decisions as they were when it started,
 * and would miss the one committed by the transaction it waited for. Both statements
 * compare the id with `=`, so PostgreSQL keeps one generic plan for them.
 */
export async function findRequestView(db: PreparableDb, id: string, lock = false): Promise<RequestView | undefined> {
  if (!isUuid(id)) return undefined;
  if (lock) await queryPrepared(db, LOCK_REQUEST, [id]);
  const rows = await queryPrepared<ViewRow>(db, REQUEST_VIEW, [id]);
  return rows[0] === undefined ? undefined : toView(rows[0]);
}

/**
 * `findRequestView(tx, id, true)` as a transaction's opening (AuditWriter.transaction):
 * the row lock, then the view, each its own statement as above, sent with the
 * transaction's START in one round trip. `id` must be a UUID.
 */
export function lockedViewOpening(id: string): OpeningStatement[] {
  if (!isUuid(id)) throw new TypeError('lockedViewOpening takes a UUID');
  return [
    { text: LOCK_REQUEST.text, values: [id] },
    { text: REQUEST_VIEW.text, values: [id] },
  ];
}

/** The view `lockedViewOpening` read, from the transaction's opened rows. */
export function lockedViewOf(opened: unknown[][]): RequestView | undefined {
  const row = (opened[1] as ViewRow[] | undefined)?.[0];
  return row === undefined ? undefined : toView(row);
}

/** Several requests' views, in the order of `ids`. */
export async function findRequestViews(db: PreparableDb, ids: string[]): Promise<RequestView[]> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  const rows = await queryPrepared<ViewRow>(db, REQUEST_VIEWS, [valid]);
  const byId = new Map(rows.map((row) => [row.id, toView(row)]));
  return valid.flatMap((id) => byId.get(id) ?? []);
}

function toView(row: ViewRow): RequestView {
  const { viewCustodians, viewApprovals, viewRequesterName, viewSharingGroups, ...request } = row;
  const names = Object.fromEntries(viewCustodians.map((c) => [c.userId, c.username]));
  if (viewRequesterName !== null) names[request.requesterId] = viewRequesterName;
  return {
    request,
    approvals: viewApprovals.map((a) => ({ ...a, createdAt: new Date(a.createdAt) })),
    policy: request.policySnapshot,
    requestKey: null,
    custodians: viewCustodians,
    custodianIds: viewCustodians.map((c) => c.userId),
    sharingGroups: viewSharingGroups ?? [],
    names,
  };
}

/**
 * The sharing groups a grouped credential's request must meet (spec §3a), from its
 * custodians' groups; undefined for one group. A group without a stored threshold (a
 * database writer's doing) cannot be met: fail closed.
 */
export function shareGroupsOf(view: Pick<RequestView, 'custodians' | 'sharingGroups'>): ShareGroup[] | undefined {
  const grouped = view.custodians.filter((c) => c.group !== null);
  if (grouped.length === 0) return undefined;
  const count = Math.max(view.sharingGroups.length, ...grouped.map((c) => (c.group ?? 0) + 1));
  return Array.from({ length: count }, (_, grp) => {
    const members = grouped.filter((c) => c.group === grp).map((c) => c.userId);
    const stored = view.sharingGroups[grp];
    return { name: stored?.name ?? `group ${grp}`, threshold: stored?.threshold ?? members.length + 1, members };
  });
}

/** The decisions recorded so far, as the policy counts them (with each approver's groups as they were at the vote). */
export function votesOf(view: RequestView): Vote[] {
  return view.approvals.map((a) => ({ userId: a.approverId, decision: a.decision, valid: a.valid, groups: a.voterGroups }));
}

/** The request as the policy decides it. */
export function votedRequestOf(view: RequestView): VotedRequest {
  const shareGroups = shareGroupsOf(view);
  return { status: view.request.status, requesterId: view.request.requesterId, requesterOwnerId: view.request.requesterOwnerId, expiresAt: view.request.expiresAt, custodianIds: view.custodianIds, ...(shareGroups !== undefined ? { shareGroups } : {}) };
}

export async function findRequest(db: Db, id: string, lock = false): Promise<RequestRow | undefined> {
  if (!isUuid(id)) return undefined;
  const rows: RequestRow[] = await db.query(`SELECT ${REQUEST_COLUMNS} FROM requests WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

export async function findByIdempotencyKey(db: Db, requesterId: string, key: string): Promise<RequestRow | undefined> {
  const rows: RequestRow[] = await db.query(`SELECT ${REQUEST_COLUMNS} FROM requests WHERE requester_id = $1 AND idempotency_key = $2`, [requesterId, key]);
  return rows[0];
}

/** Records a decision; answers when it was recorded, or undefined when this approver had already decided. */
export async function insertApproval(db: PreparableDb, a: Omit<ApprovalRow, 'valid' | 'invalidReason' | 'createdAt'>): Promise<Date | undefined> {
  const rows = await queryPrepared<{ createdAt: Date }>(db, INSERT_APPROVAL, [a.requestId, a.approverId, a.decision, a.statement, a.shareEnvelope, a.shareIndex, a.reason, a.voterGroups]);
  return rows[0]?.createdAt;
}

const INSERT_APPROVAL = prepared(
  'qg_insert_approval',
  `INSERT INTO approvals (request_id, approver_id, decision, statement, share_envelope, share_index, reason, voter_groups)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (request_id, approver_id) DO NOTHING RETURNING created_at AS "createdAt"`,
);

export async function invalidateApproval(db: Db, requestId: string, approverId: string, reason: string): Promise<void> {
  await db.query(`UPDATE approvals SET valid = false, invalid_reason = $3 WHERE request_id = $1 AND approver_id = $2`, [requestId, approverId, reason]);
}

export interface RequestFilter {
  status?: RequestStatus;
  /** Only the requests this principal may see. */
  visibleTo: Principal;
  /** Only pending requests this user can still decide (the caller checks the operator role). */
  approvableBy?: string;
  /** Only requests after this one in the list's order (newest first; ties by id). */
  afterId?: string;
  limit: number;
}

export async function listRequests(db: Db, filter: RequestFilter): Promise<RequestRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.status !== undefined) {
    params.push(filter.status);
    where.push(`r.status = $${params.length}`);
  }
  const visible = visibleRequestsSql(filter.visibleTo, params.length + 1);
  if (visible !== undefined) {
    params.push(visible.value);
    where.push(visible.sql);
  }
  if (filter.approvableBy !== undefined) {
    params.push(filter.approvableBy);
    const p = `$${params.length}`;
    where.push(`r.status = 'pending' AND r.expires_at > now()
      AND EXISTS (SELECT 1 FROM credential_shares s WHERE s.credential_id = r.credential_id AND s.version = r.credential_version AND s.custodian_id = ${p})
      AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id AND a.approver_id = ${p})
      AND ((r.requester_id <> ${p} AND r.requester_owner_id IS DISTINCT FROM ${p}) OR (r.policy_snapshot #>> '{approvals,allowRequesterApproval}') = 'true')`);
  }
  if (filter.afterId !== undefined) {
    params.push(filter.afterId);
    where.push(`(r.created_at, r.id) < (SELECT c.created_at, c.id FROM requests c WHERE c.id = $${params.length})`);
  }
  params.push(filter.limit);
  return db.query(`SELECT ${REQUEST_COLUMNS} FROM requests r ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY r.created_at DESC, r.id DESC LIMIT $${params.length}`, params);
}
