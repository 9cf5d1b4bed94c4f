import type { JWK } from 'jose';
import type { EntityManager } from 'typeorm';
import type { RequestDigestInput } from '#libs/crypto';
import { isUuid } from '../users/accounts.repository.js';

type Db = Pick<EntityManager, 'query'>;

export const REQUEST_STATUSES = ['pending', 'approved', 'executing', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const FINAL_STATUSES: readonly RequestStatus[] = ['succeeded', 'failed', 'rejected', 'expired', 'cancelled'];

export interface RequestRow {
  id: string;
  credentialId: string;
  credentialVersion: number;
  policyId: string;
  operation: { kind: string; params: Record<string, unknown> };
  requesterId: string;
  requesterKind: 'user' | 'service_account';
  reason: string;
  digest: string;
  digestInput: RequestDigestInput;
  status: RequestStatus;
  requestKey: JWK;
  requestPrivateKeySealed: string | null;
  expiresAt: Date;
  idempotencyKey: string | null;
  idempotencyFingerprint: string | null;
  result: Record<string, unknown> | null;
  executingSince: Date | null;
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
  createdAt: Date;
}

const REQUEST_COLUMNS = `id, credential_id AS "credentialId", credential_version AS "credentialVersion", policy_id AS "policyId",
  operation, requester_id AS "requesterId", requester_kind AS "requesterKind", reason, digest, digest_input AS "digestInput",
  status, request_key AS "requestKey", request_private_key_sealed AS "requestPrivateKeySealed", expires_at AS "expiresAt",
  idempotency_key AS "idempotencyKey", idempotency_fingerprint AS "idempotencyFingerprint", result,
  executing_since AS "executingSince", created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt"`;

const APPROVAL_COLUMNS = `request_id AS "requestId", approver_id AS "approverId", decision, statement, share_envelope AS "shareEnvelope",
  share_index AS "shareIndex", valid, invalid_reason AS "invalidReason", reason, created_at AS "createdAt"`;

export async function findRequest(db: Db, id: string, lock = false): Promise<RequestRow | undefined> {
  if (!isUuid(id)) return undefined;
  const rows: RequestRow[] = await db.query(`SELECT ${REQUEST_COLUMNS} FROM requests WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

export async function findByIdempotencyKey(db: Db, requesterId: string, key: string): Promise<RequestRow | undefined> {
  const rows: RequestRow[] = await db.query(`SELECT ${REQUEST_COLUMNS} FROM requests WHERE requester_id = $1 AND idempotency_key = $2`, [requesterId, key]);
  return rows[0];
}

export async function insertRequest(db: Db, r: Omit<RequestRow, 'result' | 'executingSince' | 'createdAt' | 'updatedAt' | 'finishedAt'>): Promise<boolean> {
  const rows: unknown[] = await db.query(
    `INSERT INTO requests (id, credential_id, credential_version, policy_id, operation, requester_id, requester_kind, reason, digest,
       digest_input, status, request_key, request_private_key_sealed, expires_at, idempotency_key, idempotency_fingerprint)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (requester_id, idempotency_key) DO NOTHING RETURNING id`,
    [r.id, r.credentialId, r.credentialVersion, r.policyId, r.operation, r.requesterId, r.requesterKind, r.reason, r.digest, r.digestInput,
      r.status, r.requestKey, r.requestPrivateKeySealed, r.expiresAt, r.idempotencyKey, r.idempotencyFingerprint],
  );
  return rows.length === 1;
}

/**
 * Moves a request to a new status. Entering a final status destroys the request's
 * private key in the same statement (crypto-shredding, spec §2.8).
 */
export async function setStatus(db: Db, id: string, status: RequestStatus, extra: { result?: Record<string, unknown> } = {}): Promise<void> {
  const final = FINAL_STATUSES.includes(status);
  await db.query(
    `UPDATE requests SET status = $2, updated_at = now(),
       result = COALESCE($3, result),
       executing_since = CASE WHEN $2 = 'executing' THEN now() ELSE executing_since END,
       finished_at = CASE WHEN $4 THEN now() ELSE finished_at END,
       request_private_key_sealed = CASE WHEN $4 THEN NULL ELSE request_private_key_sealed END
     WHERE id = $1`,
    [id, status, extra.result ?? null, final],
  );
}

export async function listApprovals(db: Db, requestId: string): Promise<ApprovalRow[]> {
  return db.query(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE request_id = $1 ORDER BY created_at, approver_id`, [requestId]);
}

export async function listApprovalsOf(db: Db, requestIds: string[]): Promise<ApprovalRow[]> {
  if (requestIds.length === 0) return [];
  return db.query(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE request_id = ANY($1::uuid[]) ORDER BY created_at, approver_id`, [requestIds]);
}

export async function insertApproval(db: Db, a: Omit<ApprovalRow, 'valid' | 'invalidReason' | 'createdAt'>): Promise<boolean> {
  const rows: unknown[] = await db.query(
    `INSERT INTO approvals (request_id, approver_id, decision, statement, share_envelope, share_index, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (request_id, approver_id) DO NOTHING RETURNING request_id`,
    [a.requestId, a.approverId, a.decision, a.statement, a.shareEnvelope, a.shareIndex, a.reason],
  );
  return rows.length === 1;
}

export async function invalidateApproval(db: Db, requestId: string, approverId: string, reason: string): Promise<void> {
  await db.query(`UPDATE approvals SET valid = false, invalid_reason = $3 WHERE request_id = $1 AND approver_id = $2`, [requestId, approverId, reason]);
}

export interface RequestFilter {
  status?: RequestStatus;
  /** Only requests this principal may see; undefined = all. */
  visibleTo?: { id: string };
  /** Only pending requests this user can still decide. */
  approvableBy?: string;
  limit: number;
}

export async function listRequests(db: Db, filter: RequestFilter): Promise<RequestRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.status !== undefined) {
    params.push(filter.status);
    where.push(`r.status = $${params.length}`);
  }
  if (filter.visibleTo !== undefined) {
    params.push(filter.visibleTo.id);
    const p = `$${params.length}`;
    where.push(`(r.requester_id = ${p} OR EXISTS (SELECT 1 FROM credential_shares s WHERE s.credential_id = r.credential_id AND s.version = r.credential_version AND s.custodian_id = ${p}))`);
  }
  if (filter.approvableBy !== undefined) {
    params.push(filter.approvableBy);
    const p = `$${params.length}`;
    where.push(`r.status = 'pending' AND r.expires_at > now()
      AND EXISTS (SELECT 1 FROM credential_shares s WHERE s.credential_id = r.credential_id AND s.version = r.credential_version AND s.custodian_id = ${p})
      AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = r.id AND a.approver_id = ${p})`);
  }
  params.push(filter.limit);
  return db.query(`SELECT ${REQUEST_COLUMNS} FROM requests r ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY r.created_at DESC LIMIT $${params.length}`, params);
}
