import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { isCustodyOperationKind, isFinalRequestStatus, isOperationKind, type Operation, type RequestPreview } from '#libs/contracts';
import { canonicalJson, checkShareForRequestHeader, computeRequestDigest, CryptoError, sha256Hex, verifyApprovalStatement, type JWK, type RequestDigestInput } from '#libs/crypto';
import { applyVote, constraintNotes, policyDigestSubject, PolicyError, selectPolicy, type PolicyDefinition, type VoteResolution } from '#libs/policy';
import { AuditWriter } from '../audit/audit-writer.js';
import type { Principal } from '../auth/principal.js';
import { findCredential, listShares, sharingGroupsOf, type CredentialRow } from '../credentials/credentials.repository.js';
import { ExecutionQueue } from '../executions/execution-queue.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { fromPolicyError, fromStatementError } from '../http/library-errors.js';
import { operationFor } from '../operations/operations.js';
import { policiesOfCredential } from '../policies/policies.repository.js';
import { findUsersByIds, isUuid } from '../users/accounts.repository.js';
import { actorId } from '../users/users.service.js';
import { mayCancel } from './request-access.js';
import { newRequestKey } from './request-keys.js';
import { RequestLifecycle } from './request-lifecycle.js';
import { RequestReader } from './request-reader.js';
import {
  findByIdempotencyKey,
  findRequest,
  insertApproval,
  lockedViewOf,
  lockedViewOpening,
  votedRequestOf,
  votesOf,
  type ApprovalRow,
  type RequestRow,
  type RequestView,
} from './requests.repository.js';
import type { DecisionDto, PreviewRequestDto, SubmitRequestDto } from './requests.dto.js';

/** What a submission answers with (spec §4): the request as inserted, its public key and the approvals it needs. */
export interface SubmittedView {
  request: Pick<RequestRow, 'id' | 'status' | 'policyId' | 'digest' | 'digestInput'>;
  requestKey: JWK | null;
  approvals: ApprovalRow[];
  policy: PolicyDefinition;
}

async function isPolicyOutdated(db: Pick<EntityManager, 'query'>, policyId: string): Promise<boolean> {
  const rows: { disabledReason: string | null }[] = await db.query(`SELECT disabled_reason AS "disabledReason" FROM policies WHERE id = $1`, [policyId]);
  return rows[0]?.disabledReason === 'policy_outdated';
}

/** The credential's current version, its row share-locked until the transaction ends: a custody commit waits. */
async function currentVersionLocked(tx: Pick<EntityManager, 'query'>, credentialId: string): Promise<number | undefined> {
  const rows: { version: number }[] = await tx.query(`SELECT version FROM credentials WHERE id = $1 FOR SHARE`, [credentialId]);
  return rows[0]?.version;
}

/** RFC 3339 UTC to the second: what the digest binds and what clients show. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The commands on requests: submit, decide, cancel. Status changes go through the lifecycle. */
@Injectable()
export class RequestsService {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
    private readonly lifecycle: RequestLifecycle,
    private readonly reader: RequestReader,
    private readonly executions: ExecutionQueue,
  ) {}

  /**
   * Enforces (the requester role is the route's): the operation's parameters are
   * valid for its kind and this credential, and the requester may ask for it (the
   * operation's own checks); some policy of the credential admits this caller and
   * this exact operation (else 403); the TTL never exceeds the policy's; an
   * Idempotency-Key replays the same request and refuses a different body.
   */
  async submit(principal: Principal, body: SubmitRequestDto, idempotencyKey: string | undefined): Promise<{ view: SubmittedView; replayed: boolean }> {
    const fingerprint = idempotencyKey === undefined ? null : sha256Hex(canonicalJson(body));
    if (idempotencyKey !== undefined) {
      const existing = await findByIdempotencyKey(this.ctx.dataSource, principal.id, idempotencyKey);
      if (existing !== undefined) return { view: await this.replay(existing, fingerprint), replayed: true };
    }
    const id = randomUUID();
    const { credential, operation, policy } = await this.admit(principal, body, id);

    const ttl = Math.min(body.ttlSeconds ?? policy.requestTtlSeconds, policy.requestTtlSeconds);
    const expiresAt = new Date(Math.floor(this.ctx.now().getTime() / 1000) * 1000 + ttl * 1000);
    const digestInput: RequestDigestInput = {
      id,
      credential: { id: credential.id, version: credential.version },
      policy: { id: policy.id, sha256: sha256Hex(canonicalJson(policyDigestSubject(policy))) },
      operation,
      requester: principal.id,
      reason: body.reason,
      expiresAt: rfc3339(expiresAt),
    };
    const requestKey = await newRequestKey(this.ctx.masterKey, id);
    const row = {
      id,
      credentialId: credential.id,
      credentialVersion: credential.version,
      policyId: policy.id,
      operation,
      requesterId: principal.id,
      requesterKind: principal.kind,
      requesterOwnerId: principal.ownerId ?? null,
      reason: body.reason,
      digest: computeRequestDigest(digestInput),
      digestInput,
      policySnapshot: policy,
      requestPrivateKeySealed: requestKey.sealedPrivate,
      expiresAt,
      idempotencyKey: idempotencyKey ?? null,
      idempotencyFingerprint: fingerprint,
    };
    const inserted = await this.audit.transaction(async (tx) => {
      // A new version made meanwhile (spec §4a) would leave this request bound to shares that no longer exist.
      if ((await currentVersionLocked(tx, credential.id)) !== credential.version) {
        throw new AppError('CREDENTIAL_VERSION_CHANGED', 'the credential changed version while the request was submitted (credential_version_changed): submit it again');
      }
      return this.lifecycle.submitted(tx, row, {
        actor: actorId(principal),
        data: { credentialId: credential.id, policyId: policy.id, operation, reason: body.reason, digest: row.digest, expiresAt: digestInput.expiresAt },
      });
    });
    if (!inserted && idempotencyKey !== undefined) {
      const raced = await findByIdempotencyKey(this.ctx.dataSource, principal.id, idempotencyKey);
      if (raced !== undefined) return { view: await this.replay(raced, fingerprint), replayed: true };
    }
    return { view: { request: { ...row, status: 'pending' }, requestKey: requestKey.publicJwk, approvals: [], policy }, replayed: false };
  }

  /**
   * What `submit` would decide for this body, without the reason and without creating,
   * auditing or sealing anything: the same checks (the operation's params, a policy
   * admitting this caller and operation, else the same 4xx), then the policy's
   * approval rule, the TTL the request would get and the credential's custodians by
   * name, each marked whether the policy lets them decide a request of this caller.
   */
  async preview(principal: Principal, body: PreviewRequestDto): Promise<RequestPreview> {
    const { credential, operation, policy } = await this.admit(principal, body, undefined);
    const shares = await listShares(this.ctx.dataSource, credential.id, credential.version);
    const people = new Map((await findUsersByIds(this.ctx.dataSource, shares.map((s) => s.custodianId))).map((u) => [u.id, u]));
    const requesterSide = [principal.id, ...(principal.ownerId != null ? [principal.ownerId] : [])];
    const groups = sharingGroupsOf(credential).map((group, grp) => ({
      name: group.name,
      threshold: group.threshold,
      custodians: shares
        .filter((s) => (s.group ?? 0) === grp)
        .map((s) => ({
          userId: s.custodianId,
          username: people.get(s.custodianId)?.username ?? s.custodianId,
          displayName: people.get(s.custodianId)?.displayName ?? '',
          eligible: policy.approvals.allowRequesterApproval === true || !requesterSide.includes(s.custodianId),
        })),
    }));
    return {
      credential: { id: credential.id, name: credential.name, kind: credential.kind, version: credential.version },
      policy: { id: policy.id, name: policy.name, approvals: policy.approvals, requestTtlSeconds: policy.requestTtlSeconds },
      operation,
      ttlSeconds: Math.min(body.ttlSeconds ?? policy.requestTtlSeconds, policy.requestTtlSeconds),
      sharing: { groups },
    };
  }

  /** The credential, the operation as it would be stored, and the policy that admits both for this caller (spec §4 "Submit a request"). */
  /**
   * What a submission and its preview share: the credential, the operation as it would be
   * stored, and the policy that admits it. A preview (`requestId` undefined) of a custody
   * operation is refused: admitting one claims its intake key, and approvers see its review.
   */
  private async admit(principal: Principal, body: Pick<SubmitRequestDto, 'credential' | 'operation'>, requestId: string | undefined): Promise<{ credential: CredentialRow; operation: Operation; policy: PolicyDefinition }> {
    const credential = await findCredential(this.ctx.dataSource, body.credential);
    if (credential === undefined) throw new AppError('NOT_FOUND', `no credential "${body.credential}"`);
    const kind = body.operation.kind;
    if (!isOperationKind(kind)) throw new AppError('VALIDATION_FAILED', `operation.params: operation kind "${String(kind).slice(0, 64)}" is not supported`);
    const policies = await policiesOfCredential(this.ctx.dataSource, credential.id);
    if (isCustodyOperationKind(kind)) {
      if (requestId === undefined) throw new AppError('VALIDATION_FAILED', `operation.kind: ${kind} has no preview; submit it, and its approvers are shown the change`);
      // Custody admission claims intake keys: only someone the custody policy admits gets that far.
      if (selectPolicy(policies, principal, { kind, params: {} }) === undefined) {
        throw new AppError('NO_MATCHING_POLICY', `no policy of credential "${credential.name}" lets you run ${kind}`);
      }
    }
    const operation: Operation = { kind, params: await operationFor(kind).admit(this.ctx, principal, body.operation.params, credential, requestId ?? randomUUID()) };
    const policy = selectPolicy(policies, principal, operation);
    if (policy === undefined) {
      const notes = constraintNotes(operation);
      throw new AppError('NO_MATCHING_POLICY', `no policy of credential "${credential.name}" lets you run this ${operation.kind} operation${notes.length === 0 ? '' : ` (${notes.join('; ')})`}`);
    }
    if (await isPolicyOutdated(this.ctx.dataSource, policy.id)) {
      throw new AppError('POLICY_OUTDATED', `policy "${policy.name}" asks more approvals than the credential now has custodians (policy_outdated): a security lead must edit it`);
    }
    return { credential, operation, policy };
  }

  /**
   * Records one custodian's decision, in one transaction with the request row locked.
   * Enforces: what a vote may do (`applyVote`: the request is pending and not expired —
   * an expired one is expired now and the vote refused —, the approver is an eligible
   * custodian who has not decided yet and is not the requester unless the policy
   * allows); the statement is an ES256 JWS by the approver's enrolled signing key over
   * this request's stored digest, with a fresh iat and the same decision; an approval
   * carries a share whose JWE header names this request, the approver's index (and
   * group) and that digest — the share is opened once, at execution (ADR 0018). When
   * the policy is met the request becomes `approved` and its execution is queued in
   * the same transaction.
   */
  async decide(principal: Principal, id: string, body: DecisionDto): Promise<{ approval: ApprovalRow; view: RequestView }> {
    if (principal.kind !== 'user') throw new AppError('APPROVER_NOT_ELIGIBLE', 'service accounts cannot approve');
    const signingKey = principal.signingKey;
    if (signingKey == null) throw new AppError('KEYS_NOT_ENROLLED', 'enrol your keys before deciding on requests');
    if (body.decision === 'reject' && body.share !== undefined) throw new AppError('VALIDATION_FAILED', 'a reject carries no share');
    if (body.decision === 'approve' && body.share === undefined) throw new AppError('VALIDATION_FAILED', 'an approval must carry your share sealed to the request key');

    if (!isUuid(id)) throw new AppError('NOT_FOUND', 'no such request');
    // The row lock and the view go with the transaction's START: one round trip (AuditWriter.transaction).
    const decided = await this.audit.transaction(async (tx, opened) => {
      const locked = lockedViewOf(opened);
      if (locked === undefined) throw new AppError('NOT_FOUND', 'no such request');
      const { request } = locked;
      // What the custodians sign is the digest of the stored input, never the stored digest.
      const digest = computeRequestDigest(request.digestInput);
      const ownShare = locked.custodians.find((c) => c.userId === principal.id);
      const resolution = this.applyVote(locked, principal, body.decision, ownShare?.groups ?? principal.groups);
      if (!resolution.counted) {
        await this.lifecycle.transition(tx, request, 'expired', { actor: 'system' });
        return undefined;
      }
      try {
        const claims = await verifyApprovalStatement(body.statement, signingKey, { req: id, digest, sub: principal.id }, Math.floor(this.ctx.now().getTime() / 1000));
        if (claims.decision !== body.decision) throw new AppError('STATEMENT_REJECTED', `the statement says ${claims.decision}, the request body says ${body.decision}`);
      } catch (error) {
        if (error instanceof CryptoError) throw fromStatementError(error);
        throw error;
      }
      if (body.decision === 'approve') {
        if (ownShare === undefined) throw new AppError('APPROVER_NOT_ELIGIBLE', 'you are not a custodian of this credential');
        this.checkShareHeader(request, body.share ?? '', ownShare.index, ownShare.group, digest);
      }
      const approval = {
        requestId: id,
        approverId: principal.id,
        decision: body.decision,
        statement: body.statement,
        shareEnvelope: body.decision === 'approve' ? (body.share ?? null) : null,
        shareIndex: body.decision === 'approve' ? (ownShare?.index ?? null) : null,
        reason: body.reason ?? null,
        voterGroups: ownShare?.groups ?? principal.groups,
      };
      const recordedAt = await insertApproval(tx, approval);
      if (recordedAt === undefined) throw new AppError('APPROVAL_DUPLICATE', 'you already decided on this request');
      await this.audit.append(tx, {
        actor: actorId(principal),
        action: body.decision === 'approve' ? 'request.approval_recorded' : 'request.rejection_recorded',
        subject: `request:${id}`,
        data: { digest, statement: body.statement, reason: body.reason ?? null, shareIndex: approval.shareIndex, ...(body.decision === 'approve' && ownShare?.group != null ? { shareGroup: ownShare.group } : {}) },
      });
      const outcome = resolution.outcome;
      await this.lifecycle.resolve(tx, request, outcome, actorId(principal));
      // A vote that leaves the request pending changes no status, but what watchers show (the approvals so far).
      if (outcome.status === 'pending') this.lifecycle.announceUnchanged(tx, request, 'pending');
      const recorded: ApprovalRow = { ...approval, valid: true, invalidReason: null, createdAt: recordedAt };
      // The request as this transaction leaves it: nothing else can change it while it is locked.
      const committed: RequestView = {
        ...locked,
        request: { ...request, status: outcome.status, requestPrivateKeySealed: isFinalRequestStatus(outcome.status) ? null : request.requestPrivateKeySealed },
        approvals: [...locked.approvals, recorded],
      };
      return { committed, approval: recorded };
    }, lockedViewOpening(id));
    if (decided === undefined) throw new AppError('REQUEST_NOT_PENDING', 'the request has expired');
    const { committed, approval } = decided;
    // Start the execution before answering: it is what the requester waits for.
    if (committed.request.status === 'approved') this.executions.runSoon(committed);
    // The answer to a decision shows the request's status and counts, not its public key: none is derived (`requestKey` stays null).
    return { approval, view: committed };
  }

  /** Enforces: the requester (or an admin / security lead) cancels, only while pending. */
  async cancel(principal: Principal, id: string): Promise<RequestView> {
    await this.audit.transaction(async (tx) => {
      const request = await findRequest(tx, id, true);
      if (request === undefined) throw new AppError('NOT_FOUND', 'no such request');
      if (!mayCancel(principal, request)) throw new AppError('FORBIDDEN', 'only the requester or a security lead can cancel a request');
      if (request.status !== 'pending') throw new AppError('REQUEST_NOT_PENDING', `the request is ${request.status}`);
      await this.lifecycle.transition(tx, request, 'cancelled', { actor: actorId(principal) });
    });
    return this.reader.present(await this.reader.view(id));
  }

  private applyVote(locked: RequestView, principal: Principal, decision: DecisionDto['decision'], groups: string[]): VoteResolution {
    try {
      return applyVote(locked.policy, votedRequestOf(locked), votesOf(locked), { voter: { id: principal.id, roles: principal.roles, groups }, decision }, this.ctx.now());
    } catch (error) {
      if (error instanceof PolicyError) throw fromPolicyError(error);
      throw error;
    }
  }

  /**
   * The early check (spec rev 2 §4): a share whose JWE header is not for this request,
   * this approver's index and group and this digest is refused at once. It is not
   * opened here: the execution opens and checks every share (ADR 0018).
   */
  private checkShareHeader(request: RequestRow, envelope: string, index: number, group: number | null, digest: string): void {
    if (request.requestPrivateKeySealed === null) throw new AppError('REQUEST_NOT_PENDING', 'the request key is destroyed');
    try {
      checkShareForRequestHeader(envelope, { req: request.id, idx: index, digest, ...(group !== null ? { grp: group } : {}) });
    } catch (error) {
      if (error instanceof CryptoError) {
        const at = group !== null ? `your group ${group} and index ${index}` : `your index ${index}`;
        throw new AppError('SHARE_REJECTED', `the share is not sealed for this request at ${at} and this request's digest (${error.code})`);
      }
      throw error;
    }
  }

  private async replay(existing: RequestRow, fingerprint: string | null): Promise<SubmittedView> {
    if (existing.idempotencyFingerprint !== fingerprint) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request body');
    }
    return this.reader.present(await this.reader.view(existing.id));
  }
}
