import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  canonicalJson,
  computeRequestDigest,
  CryptoError,
  generateRequestKeyPair,
  openShareForRequest,
  openWithMasterKey,
  sealWithMasterKey,
  sha256Hex,
  verifyApprovalStatement,
  zeroize,
  type JWK,
  type RequestDigestInput,
} from '#libs/crypto';
import { isOperationKind, type Operation } from '#libs/contracts';
import { executorFor, ExecutorError } from '#libs/executors';
import { checkApprover, evaluatePolicy, PolicyError, selectPolicy, type Outcome, type PolicyDefinition, type Vote } from '#libs/policy';
import { AuditWriter } from '../audit/audit-writer.js';
import type { Principal } from '../auth/principal.js';
import { findCredential } from '../credentials/credentials.repository.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { fromPolicyError, fromStatementError } from '../http/library-errors.js';
import { policiesOfCredential } from '../policies/policies.repository.js';
import { findUserById } from '../users/accounts.repository.js';
import { actorId } from '../users/users.service.js';
import { ExecutionQueue } from '../executions/execution-queue.js';
import { RequestEvents } from './request-events.js';
import {
  FINAL_STATUSES,
  findByIdempotencyKey,
  findRequest,
  findRequestShare,
  findRequestView,
  findRequestViews,
  insertApproval,
  insertRequest,
  listRequests,
  setStatus,
  type ApprovalRow,
  type RequestRow,
  type RequestStatus,
  type RequestView,
} from './requests.repository.js';
import type { DecisionDto, SubmitRequestDto } from './requests.dto.js';

export type { RequestView } from './requests.repository.js';

/** What a submission answers with (spec §4): the request as inserted and the approvals it needs. */
export interface SubmittedView {
  request: Pick<RequestRow, 'id' | 'status' | 'policyId' | 'digest' | 'digestInput' | 'requestKey'>;
  approvals: ApprovalRow[];
  policy: PolicyDefinition;
}

const SEES_ALL_REQUESTS = ['admin', 'security_lead', 'auditor'];

/** What a change notification names: the request, its credential and its requester. */
export type RequestIdentity = Pick<RequestRow, 'id' | 'credentialId' | 'requesterId'>;

/** The decisions recorded so far, as the policy counts them (with each approver's groups). */
export function votesOf(view: RequestView): Vote[] {
  const groups = new Map(view.custodians.map((c) => [c.userId, c.groups]));
  return view.approvals.map((a) => ({ userId: a.approverId, decision: a.decision, valid: a.valid, groups: groups.get(a.approverId) ?? [] }));
}

export function requestKeyPurpose(requestId: string): string {
  return `request-key:${requestId}`;
}

/** RFC 3339 UTC to the second: what the digest binds and what clients show. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

@Injectable()
export class RequestsService {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
    private readonly events: RequestEvents,
    private readonly queue: ExecutionQueue,
  ) {}

  /**
   * Enforces: the caller holds the requester role; the operation's parameters are
   * valid for its kind; some policy of the credential admits this caller and this
   * exact operation (else 403); the TTL never exceeds the policy's; an
   * Idempotency-Key replays the same request and refuses a different body.
   */
  async submit(principal: Principal, body: SubmitRequestDto, idempotencyKey: string | undefined): Promise<{ view: SubmittedView; replayed: boolean }> {
    if (!principal.roles.includes('requester')) throw new AppError('FORBIDDEN', 'submitting requests needs the requester role');
    const fingerprint = idempotencyKey === undefined ? null : sha256Hex(canonicalJson(body));
    if (idempotencyKey !== undefined) {
      const existing = await findByIdempotencyKey(this.ctx.dataSource, principal.id, idempotencyKey);
      if (existing !== undefined) return { view: await this.replay(existing, fingerprint), replayed: true };
    }
    const credential = await findCredential(this.ctx.dataSource, body.credential);
    if (credential === undefined) throw new AppError('NOT_FOUND', `no credential "${body.credential}"`);
    const kind = body.operation.kind;
    if (!isOperationKind(kind)) throw new AppError('VALIDATION_FAILED', `operation.params: operation kind "${String(kind).slice(0, 64)}" is not supported`);
    const params = this.validateParams(kind, body.operation.params, credential);
    const operation: Operation = { kind, params };
    if (operation.kind === 'reveal' && principal.kind === 'user') {
      const requester = await findUserById(this.ctx.dataSource, principal.id);
      if (requester?.encryptionKey == null) throw new AppError('KEYS_NOT_ENROLLED', 'reveal seals the secret to your own encryption key: enrol keys first');
    } else if (operation.kind === 'reveal') {
      throw new AppError('FORBIDDEN', 'reveal is for people with enrolled keys, not service accounts');
    }
    const policy = selectPolicy(await policiesOfCredential(this.ctx.dataSource, credential.id), principal, operation);
    if (policy === undefined) throw new AppError('NO_MATCHING_POLICY', `no policy of credential "${credential.name}" lets you run this ${operation.kind} operation`);

    const id = randomUUID();
    const ttl = Math.min(body.ttlSeconds ?? policy.requestTtlSeconds, policy.requestTtlSeconds);
    const expiresAt = new Date(Math.floor(this.ctx.now().getTime() / 1000) * 1000 + ttl * 1000);
    const digestInput: RequestDigestInput = {
      id,
      credential: { id: credential.id, version: credential.version },
      operation,
      requester: principal.id,
      reason: body.reason,
      expiresAt: rfc3339(expiresAt),
    };
    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    const privateBytes = Buffer.from(JSON.stringify(privateJwk));
    const sealedPrivate = await sealWithMasterKey(privateBytes, this.ctx.masterKey, requestKeyPurpose(id));
    zeroize(privateBytes);
    const row = {
      id,
      credentialId: credential.id,
      credentialVersion: credential.version,
      policyId: policy.id,
      operation,
      requesterId: principal.id,
      requesterKind: principal.kind,
      reason: body.reason,
      digest: computeRequestDigest(digestInput),
      digestInput,
      status: 'pending' as const,
      requestKey: publicJwk,
      requestPrivateKeySealed: sealedPrivate,
      expiresAt,
      idempotencyKey: idempotencyKey ?? null,
      idempotencyFingerprint: fingerprint,
    };
    const inserted = await this.audit.transaction(async (tx) => {
      if (!(await insertRequest(tx, row))) return false;
      await this.audit.append(tx, {
        actor: actorId(principal),
        action: 'request.submitted',
        subject: `request:${id}`,
        data: { credentialId: credential.id, policyId: policy.id, operation, reason: body.reason, digest: row.digest, expiresAt: digestInput.expiresAt },
      });
      this.publish(tx, row, 'pending');
      return true;
    });
    if (!inserted && idempotencyKey !== undefined) {
      const raced = await findByIdempotencyKey(this.ctx.dataSource, principal.id, idempotencyKey);
      if (raced !== undefined) return { view: await this.replay(raced, fingerprint), replayed: true };
    }
    return { view: { request: row, approvals: [], policy }, replayed: false };
  }

  async get(principal: Principal, id: string): Promise<RequestView> {
    const view = await this.view(id);
    if (!this.canSee(principal, view)) throw new AppError('NOT_FOUND', 'no such request');
    return view;
  }

  async list(principal: Principal, query: { status?: RequestStatus; approvable?: boolean; limit: number }): Promise<RequestView[]> {
    const rows = await listRequests(this.ctx.dataSource, {
      status: query.status,
      limit: query.limit,
      visibleTo: principal.roles.some((r) => SEES_ALL_REQUESTS.includes(r)) ? undefined : { id: principal.id },
      approvableBy: query.approvable === true ? principal.id : undefined,
    });
    return findRequestViews(this.ctx.dataSource, rows.map((r) => r.id));
  }

  /** The caller's own share envelope for this request's credential version. */
  async share(principal: Principal, id: string): Promise<{ envelope: string; index: number; version: number }> {
    const found = await findRequestShare(this.ctx.dataSource, id, principal.id);
    if (found === undefined) throw new AppError('NOT_FOUND', 'no such request');
    if (found.share === null) throw new AppError('APPROVER_NOT_ELIGIBLE', 'you are not a custodian of this credential');
    if (found.status !== 'pending') throw new AppError('REQUEST_NOT_PENDING', `the request is ${found.status}`);
    return found.share;
  }

  /**
   * Records one custodian's decision. Enforces, with the request row locked:
   * the request is pending and not expired; the approver is an eligible custodian
   * who has not decided yet and is not the requester (unless the policy allows);
   * the statement is an ES256 JWS by the approver's enrolled signing key over this
   * request's stored digest, with a fresh iat and the same decision; an approval
   * carries a share that opens with this request's key at the approver's index.
   * When the policy is met the request becomes `approved` and its execution is
   * queued in the same transaction.
   */
  async decide(principal: Principal, id: string, body: DecisionDto): Promise<{ approval: ApprovalRow; view: RequestView }> {
    if (principal.kind !== 'user') throw new AppError('APPROVER_NOT_ELIGIBLE', 'service accounts cannot approve');
    const signingKey = principal.signingKey;
    if (signingKey == null) throw new AppError('KEYS_NOT_ENROLLED', 'enrol your keys before deciding on requests');
    if (body.decision === 'reject' && body.share !== undefined) throw new AppError('VALIDATION_FAILED', 'a reject carries no share');
    if (body.decision === 'approve' && body.share === undefined) throw new AppError('VALIDATION_FAILED', 'an approval must carry your share sealed to the request key');

    const outcome = await this.audit.transaction(async (tx) => {
      const locked = await findRequestView(tx, id, true);
      if (locked === undefined) throw new AppError('NOT_FOUND', 'no such request');
      const { request, policy, custodianIds } = locked;
      if (request.status !== 'pending') throw new AppError('REQUEST_NOT_PENDING', `the request is ${request.status}`);
      if (request.expiresAt.getTime() <= this.ctx.now().getTime()) {
        return { expired: true as const };
      }
      const votes = votesOf(locked);
      try {
        checkApprover(policy, { requesterId: request.requesterId, expiresAt: request.expiresAt, custodianIds }, { id: principal.id, roles: principal.roles }, votes);
      } catch (error) {
        if (error instanceof PolicyError) throw fromPolicyError(error);
        throw error;
      }
      try {
        const claims = await verifyApprovalStatement(body.statement, signingKey, { req: id, digest: request.digest, sub: principal.id }, Math.floor(this.ctx.now().getTime() / 1000));
        if (claims.decision !== body.decision) throw new AppError('STATEMENT_REJECTED', `the statement says ${claims.decision}, the request body says ${body.decision}`);
      } catch (error) {
        if (error instanceof CryptoError) throw fromStatementError(error);
        throw error;
      }
      const ownShare = locked.custodians.find((c) => c.userId === principal.id);
      if (body.decision === 'approve') {
        if (ownShare === undefined) throw new AppError('APPROVER_NOT_ELIGIBLE', 'you are not a custodian of this credential');
        await this.checkShareOpens(request, body.share ?? '', ownShare.index);
      }
      const approval = {
        requestId: id,
        approverId: principal.id,
        decision: body.decision,
        statement: body.statement,
        shareEnvelope: body.decision === 'approve' ? (body.share ?? null) : null,
        shareIndex: body.decision === 'approve' ? (ownShare?.index ?? null) : null,
        reason: body.reason ?? null,
      };
      const recordedAt = await insertApproval(tx, approval);
      if (recordedAt === undefined) throw new AppError('APPROVAL_DUPLICATE', 'you already decided on this request');
      await this.audit.append(tx, {
        actor: actorId(principal),
        action: body.decision === 'approve' ? 'request.approval_recorded' : 'request.rejection_recorded',
        subject: `request:${id}`,
        data: { digest: request.digest, statement: body.statement, reason: body.reason ?? null, shareIndex: approval.shareIndex },
      });
      // The row lock keeps the decisions read above current: this one is the only new vote.
      const vote: Vote = { userId: principal.id, decision: body.decision, valid: true, groups: ownShare?.groups ?? principal.groups };
      const result = evaluatePolicy(policy, { requesterId: request.requesterId, expiresAt: request.expiresAt, custodianIds }, [...votes, vote], this.ctx.now());
      await this.applyOutcome(tx, request, result, actorId(principal));
      this.publish(tx, request, result.status);
      const recorded: ApprovalRow = { ...approval, valid: true, invalidReason: null, createdAt: recordedAt };
      // The request as this transaction leaves it: nothing else can change it while it is locked.
      const final = FINAL_STATUSES.includes(result.status);
      const committed: RequestView = {
        ...locked,
        request: { ...request, status: result.status, requestPrivateKeySealed: final ? null : request.requestPrivateKeySealed },
        approvals: [...locked.approvals, recorded],
      };
      return { expired: false as const, committed, approval: recorded };
    });
    if (outcome.expired) {
      await this.expire(id);
      throw new AppError('REQUEST_NOT_PENDING', 'the request has expired');
    }
    const { committed, approval } = outcome;
    // Start the execution before answering: it is what the requester waits for.
    if (committed.request.status === 'approved') this.queue.runSoon(committed);
    return { approval, view: committed };
  }

  /** Enforces: the requester (or an admin / security lead) cancels, only while pending. */
  async cancel(principal: Principal, id: string): Promise<RequestView> {
    await this.audit.transaction(async (tx) => {
      const request = await findRequest(tx, id, true);
      if (request === undefined) throw new AppError('NOT_FOUND', 'no such request');
      const mayCancel = request.requesterId === principal.id || principal.roles.includes('admin') || principal.roles.includes('security_lead');
      if (!mayCancel) throw new AppError('FORBIDDEN', 'only the requester or a security lead can cancel a request');
      if (request.status !== 'pending') throw new AppError('REQUEST_NOT_PENDING', `the request is ${request.status}`);
      await setStatus(tx, id, 'cancelled');
      await this.audit.append(tx, { actor: actorId(principal), action: 'request.cancelled', subject: `request:${id}`, data: { requestKeyDestroyed: true } });
      this.publish(tx, request, 'cancelled');
    });
    return this.view(id);
  }

  /** Moves overdue pending requests to `expired`, destroying their keys. Safe on every replica. */
  async expireOverdue(limit = 100): Promise<number> {
    const expired = await this.audit.transaction(async (tx) => {
      const rows: RequestIdentity[] = await tx.query(
        `SELECT id, credential_id AS "credentialId", requester_id AS "requesterId" FROM requests
          WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [this.ctx.now(), limit],
      );
      for (const request of rows) {
        await setStatus(tx, request.id, 'expired');
        await this.audit.append(tx, { actor: 'system', action: 'request.expired', subject: `request:${request.id}`, data: { requestKeyDestroyed: true } });
        this.publish(tx, request, 'expired');
      }
      return rows;
    });
    return expired.length;
  }

  async expire(id: string): Promise<void> {
    await this.audit.transaction(async (tx) => {
      const request = await findRequest(tx, id, true);
      if (request?.status !== 'pending' || request.expiresAt.getTime() > this.ctx.now().getTime()) return;
      await setStatus(tx, id, 'expired');
      await this.audit.append(tx, { actor: 'system', action: 'request.expired', subject: `request:${id}`, data: { requestKeyDestroyed: true } });
      this.publish(tx, request, 'expired');
    });
  }

  /** Resolves with the request once it is final, or as it is when the time is up. */
  async waitForFinal(principal: Principal, id: string, timeoutSeconds: number): Promise<RequestView> {
    const initial = await this.get(principal, id);
    if (FINAL_STATUSES.includes(initial.request.status) || timeoutSeconds === 0) return initial;
    await new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        clearInterval(poll);
        unsubscribe();
        resolve();
      };
      const timer = setTimeout(finish, timeoutSeconds * 1000);
      // Another replica may finish it: look at the database now and then too.
      const poll = setInterval(() => {
        findRequest(this.ctx.dataSource, id)
          .then((r) => {
            if (r !== undefined && FINAL_STATUSES.includes(r.status)) finish();
          })
          .catch(() => undefined);
      }, 1000);
      const unsubscribe = this.events.subscribe((change) => {
        if (change.id === id && FINAL_STATUSES.includes(change.status)) finish();
      });
    });
    return this.view(id);
  }

  canSee(principal: Principal, view: RequestView): boolean {
    return view.request.requesterId === principal.id || view.custodianIds.includes(principal.id) || principal.roles.some((r) => SEES_ALL_REQUESTS.includes(r));
  }

  async view(id: string): Promise<RequestView> {
    const view = await findRequestView(this.ctx.dataSource, id);
    if (view === undefined) throw new AppError('NOT_FOUND', 'no such request');
    return view;
  }

  /** Tells every replica's waiters and event streams that this request changed in `tx`, once it commits. */
  publish(tx: EntityManager, request: RequestIdentity, status: RequestStatus): void {
    this.events.publish(tx, { id: request.id, status, credentialId: request.credentialId, requesterId: request.requesterId, at: this.ctx.now().toISOString() });
  }

  async applyOutcome(tx: EntityManager, request: RequestRow, outcome: Outcome, actor: string): Promise<void> {
    switch (outcome.status) {
      case 'pending':
        if (request.status !== 'pending') {
          await setStatus(tx, request.id, 'pending');
          await this.audit.append(tx, { actor, action: 'request.reopened', subject: `request:${request.id}`, data: { approvals: outcome.approvals, required: outcome.required } });
        }
        return;
      case 'approved':
        await setStatus(tx, request.id, 'approved');
        await this.audit.append(tx, { actor, action: 'request.approved', subject: `request:${request.id}`, data: { approverIds: outcome.approverIds } });
        await this.queue.enqueue(tx, request.id);
        return;
      case 'rejected':
        await setStatus(tx, request.id, 'rejected');
        await this.audit.append(tx, { actor, action: 'request.rejected', subject: `request:${request.id}`, data: { rejectedBy: outcome.rejectedBy, requestKeyDestroyed: true } });
        return;
      case 'expired':
        await setStatus(tx, request.id, 'expired');
        await this.audit.append(tx, { actor, action: 'request.expired', subject: `request:${request.id}`, data: { requestKeyDestroyed: true } });
        return;
    }
  }

  private async checkShareOpens(request: RequestRow, envelope: string, index: number): Promise<void> {
    if (request.requestPrivateKeySealed === null) throw new AppError('REQUEST_NOT_PENDING', 'the request key is destroyed');
    const privateBytes = await openWithMasterKey(request.requestPrivateKeySealed, this.ctx.masterKey, requestKeyPurpose(request.id));
    let share: Buffer | undefined;
    try {
      share = await openShareForRequest(envelope, JSON.parse(privateBytes.toString('utf8')) as JWK, { req: request.id, idx: index });
    } catch (error) {
      if (error instanceof CryptoError) throw new AppError('SHARE_REJECTED', `the share does not open with this request's key at your index ${index} (${error.code})`);
      throw error;
    } finally {
      zeroize(privateBytes, share);
    }
  }

  private async replay(existing: RequestRow, fingerprint: string | null): Promise<SubmittedView> {
    if (existing.idempotencyFingerprint !== fingerprint) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request body');
    }
    return this.view(existing.id);
  }

  private validateParams(kind: string, params: Record<string, unknown>, credential: { kind: string; config: Record<string, unknown> }): Record<string, unknown> {
    const credentialKind = credential.kind;
    try {
      if (kind === 'reveal') {
        if (Object.keys(params).length > 0) throw new AppError('VALIDATION_FAILED', 'reveal takes no params');
        return {};
      }
      const executor = executorFor(kind);
      if (!executor.credentialKinds.includes(credentialKind)) throw new AppError('VALIDATION_FAILED', `a ${credentialKind} credential cannot run ${kind}`);
      return executor.validateParams(params, credential.config);
    } catch (error) {
      if (error instanceof ExecutorError) throw new AppError('VALIDATION_FAILED', `operation.params: ${error.message}`);
      throw error;
    }
  }
}
