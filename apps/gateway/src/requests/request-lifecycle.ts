import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertUnreachable, isFinalRequestStatus, type AuditAction, type RequestChange, type RequestStatus } from '#libs/contracts';
import { assertLegalTransition, type Outcome } from '#libs/policy';
import { AuditWriter } from '../audit/audit-writer.js';
import { ExecutionQueue } from '../executions/execution-queue.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { NotificationOutbox } from '../notifications/notification-outbox.js';
import { prepared, queryPrepared } from '../persistence/prepared.js';
import { RequestEvents } from './request-events.js';
import type { RequestRow } from './requests.repository.js';

/** What a transition needs to know of a request: who it concerns, and the status the caller found it in (locked). */
export type TransitionSubject = Pick<RequestRow, 'id' | 'credentialId' | 'requesterId' | 'status'>;

export interface TransitionDetails {
  actor: string;
  data?: Record<string, unknown>;
  /** the operation's output, entering `succeeded` or `failed` */
  result?: Record<string, unknown>;
  /** entering `executing`: past this, a sweeper fails the request as interrupted */
  leaseUntil?: Date;
}

/** The audit action of entering each status. A request enters `pending` only at submission or when bad shares reopen it. */
const ACTION_ON_ENTERING: { readonly [To in RequestStatus]: AuditAction } = {
  pending: 'request.reopened',
  approved: 'request.approved',
  executing: 'request.executing',
  succeeded: 'request.succeeded',
  failed: 'request.failed',
  rejected: 'request.rejected',
  expired: 'request.expired',
  cancelled: 'request.cancelled',
};

/**
 * The request lifecycle: the only code that writes a request's status. A transition,
 * inside the caller's transaction (which holds the request's row lock):
 * - is refused unless the transition table (libs/policy) allows `from → to`;
 * - updates the row only if it is still in `from` (else nothing happens: false);
 * - entering a final status destroys the request's private key in the same
 *   statement (crypto-shredding, spec §2 item 8);
 * - appends the audit entry of entering `to` (spec §2 item 7);
 * - entering `approved` enqueues the execution;
 * - announces the change to every replica once it commits, and enqueues it in
 *   the notification outbox.
 */
@Injectable()
export class RequestLifecycle {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
    private readonly events: RequestEvents,
    private readonly executions: ExecutionQueue,
    private readonly outbox: NotificationOutbox,
  ) {}

  /** Inserts a submitted request as `pending`; false when its idempotency key was taken meanwhile. */
  async submitted(tx: EntityManager, row: NewRequestRow, details: TransitionDetails): Promise<boolean> {
    if (!(await insertRequest(tx, row))) return false;
    await this.audit.append(tx, { actor: details.actor, action: 'request.submitted', subject: `request:${row.id}`, data: details.data });
    await this.announce(tx, row, 'pending');
    return true;
  }

  async transition(tx: EntityManager, request: TransitionSubject, to: RequestStatus, details: TransitionDetails): Promise<boolean> {
    assertLegalTransition(request.status, to);
    const final = isFinalRequestStatus(to);
    const moved = await queryPrepared(tx, SET_STATUS, [request.id, to, details.result ?? null, final, details.leaseUntil ?? null, request.status]);
    if (moved.length !== 1) return false;
    const data = final ? { ...details.data, requestKeyDestroyed: true } : details.data;
    await this.audit.append(tx, { actor: details.actor, action: ACTION_ON_ENTERING[to], subject: `request:${request.id}`, ...(data !== undefined ? { data } : {}) });
    if (to === 'approved') await this.executions.enqueue(tx, request.id);
    await this.announce(tx, request, to);
    return true;
  }

  /**
   * Destroys an executing request's private key and its share envelopes, once the
   * execution has rebuilt the credential and before the operation runs (spec §2 item
   * 14). False when the request is no longer executing (nothing is destroyed then).
   */
  async shredBeforeRun(tx: EntityManager, request: Pick<RequestRow, 'id'>): Promise<boolean> {
    if ((await queryPrepared(tx, SHRED_REQUEST_KEY, [request.id])).length !== 1) return false;
    const envelopes = await queryPrepared(tx, SHRED_SHARE_ENVELOPES, [request.id]);
    await this.audit.append(tx, { actor: 'system', action: 'request.key_destroyed', subject: `request:${request.id}`, data: { shareEnvelopesDestroyed: envelopes.length } });
    return true;
  }

  /**
   * Spec §7: a disabled user's or a revoked account's pending requests end `cancelled`,
   * in the transaction that disables or revokes, so that nobody approves on behalf of
   * someone who has left. Returns how many were cancelled.
   */
  async cancelPendingOf(tx: EntityManager, requesterId: string, actor: string, reason: 'requester_disabled' | 'requester_revoked'): Promise<number> {
    const pending: TransitionSubject[] = await tx.query(
      `SELECT id, credential_id AS "credentialId", requester_id AS "requesterId", status FROM requests WHERE requester_id = $1 AND status = 'pending' ORDER BY id FOR UPDATE`,
      [requesterId],
    );
    for (const request of pending) await this.transition(tx, request, 'cancelled', { actor, data: { reason } });
    return pending.length;
  }

  /** Moves the request where the policy's outcome says; `pending` moves only a request that had left it. */
  async resolve(tx: EntityManager, request: TransitionSubject, outcome: Outcome, actor: string): Promise<void> {
    switch (outcome.status) {
      case 'pending':
        if (request.status !== 'pending') await this.transition(tx, request, 'pending', { actor, data: { approvals: outcome.approvals, required: outcome.required } });
        return;
      case 'approved':
        await this.transition(tx, request, 'approved', { actor, data: { approverIds: outcome.approverIds } });
        return;
      case 'rejected':
        await this.transition(tx, request, 'rejected', { actor, data: { rejectedBy: outcome.rejectedBy } });
        return;
      case 'expired':
        await this.transition(tx, request, 'expired', { actor });
        return;
      default:
        return assertUnreachable(outcome, 'policy outcome');
    }
  }

  /** Tells waiters and event streams that the request is `status` once `tx` commits, without a status change (a request still executing). */
  announceUnchanged(tx: EntityManager, request: Pick<RequestRow, 'id' | 'credentialId' | 'requesterId'>, status: RequestStatus): void {
    this.events.publish(tx, this.change(request, status));
  }

  private async announce(tx: EntityManager, request: Pick<RequestRow, 'id' | 'credentialId' | 'requesterId'>, status: RequestStatus): Promise<void> {
    const change = this.change(request, status);
    this.events.publish(tx, change);
    await this.outbox.enqueue(tx, change);
  }

  private change(request: Pick<RequestRow, 'id' | 'credentialId' | 'requesterId'>, status: RequestStatus): RequestChange {
    return { id: request.id, status, credentialId: request.credentialId, requesterId: request.requesterId, at: this.ctx.now().toISOString() };
  }
}

export type NewRequestRow = Omit<RequestRow, 'status' | 'result' | 'createdAt' | 'updatedAt' | 'finishedAt'>;

async function insertRequest(tx: EntityManager, r: NewRequestRow): Promise<boolean> {
  const rows: unknown[] = await tx.query(
    `INSERT INTO requests (id, credential_id, credential_version, policy_id, operation, requester_id, requester_kind, reason, digest,
       digest_input, status, policy_snapshot, request_private_key_sealed, expires_at, idempotency_key, idempotency_fingerprint, requester_owner_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, $12, $13, $14, $15, $16)
     ON CONFLICT (requester_id, idempotency_key) DO NOTHING RETURNING id`,
    [r.id, r.credentialId, r.credentialVersion, r.policyId, r.operation, r.requesterId, r.requesterKind, r.reason, r.digest, r.digestInput,
      r.policySnapshot, r.requestPrivateKeySealed, r.expiresAt, r.idempotencyKey, r.idempotencyFingerprint, r.requesterOwnerId],
  );
  return rows.length === 1;
}

const SET_STATUS = prepared(
  'qg_set_request_status',
  `UPDATE requests SET status = $2, updated_at = now(),
     result = COALESCE($3, result),
     execution_lease_until = COALESCE($5, execution_lease_until),
     finished_at = CASE WHEN $4 THEN now() ELSE finished_at END,
     request_private_key_sealed = CASE WHEN $4 THEN NULL ELSE request_private_key_sealed END
   WHERE id = $1 AND status = $6 RETURNING id`,
);

const SHRED_REQUEST_KEY = prepared(
  'qg_shred_request_key',
  `UPDATE requests SET request_private_key_sealed = NULL, updated_at = now() WHERE id = $1 AND status = 'executing' RETURNING id`,
);

const SHRED_SHARE_ENVELOPES = prepared(
  'qg_shred_share_envelopes',
  `UPDATE approvals SET share_envelope = NULL WHERE request_id = $1 AND share_envelope IS NOT NULL RETURNING approver_id`,
);
