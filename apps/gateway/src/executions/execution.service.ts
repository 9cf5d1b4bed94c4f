import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { isOperationKind, type OperationKind } from '#libs/contracts';
import { canonicalJson, combineGroupedShares, combineShares, CryptoError, openSealedSecret, openShareForRequest, sha256Hex, verifyShareCommitment, zeroize } from '#libs/crypto';
import { evaluatePolicy } from '#libs/policy';
import { AuditWriter } from '../audit/audit-writer.js';
import { findCredential, type CredentialRow } from '../credentials/credentials.repository.js';
import { ShareAssignmentIntegrityError, verifiedAssignments, type VerifiedAssignment } from '../credentials/share-assignments.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { operationFor, StagedVersion } from '../operations/operations.js';
import { signedRequestOf, type SignedRequest } from './signed-request.js';
import { withRequestKey } from '../requests/request-keys.js';
import { RequestLifecycle } from '../requests/request-lifecycle.js';
import { findRequestView, invalidateApproval, votedRequestOf, votesOf, type RequestRow, type RequestView } from '../requests/requests.repository.js';
import { ExecutionQueue } from './execution-queue.js';
import { executionMetrics } from './execution-metrics.js';

/** An execution holding `executing` longer than its time limit plus this margin was interrupted (its replica died). */
export function executionLeaseMs(operationTimeoutSeconds: number): number {
  return (operationTimeoutSeconds + Math.min(30, operationTimeoutSeconds)) * 1000;
}

interface OpenedShare {
  approverId: string;
  /** from the MAC-checked assignment; null for one group */
  grp: number | null;
  idx: number;
  share: Buffer;
}

/** What `prepare` reads and opens, each settled when it is there. */
interface Prepared {
  assignments: Promise<VerifiedAssignment[]>;
  credential: Promise<CredentialRow | undefined>;
  opened: Promise<{ good: OpenedShare[]; bad: { approverId: string; reason: string }[] }>;
}

/**
 * The only place a credential is reconstructed (spec §2.2): in this process's
 * memory, after the claim `approved → executing`, zeroed in `finally`.
 */
@Injectable()
export class ExecutionService implements OnApplicationBootstrap {
  private readonly metrics: ReturnType<typeof executionMetrics>;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
    private readonly lifecycle: RequestLifecycle,
    private readonly queue: ExecutionQueue,
  ) {
    this.metrics = executionMetrics(ctx.metrics);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work((requestId, approved) => this.execute(requestId, approved));
  }

  /**
   * Runs an approved request, using only what the custodians signed (spec §2 item 10):
   * the request as `signedRequestOf` reads it; each approval's share only if it opens
   * with the request key for this request, the approver's own index and the signed
   * digest, and matches its commitment; the sealed secret of the signed credential
   * version, bound to the credential's kind and config. The request key and the share
   * envelopes are destroyed once the credential is rebuilt, before the operation runs.
   */
  async execute(requestId: string, approved?: RequestView): Promise<void> {
    // The approving process holds what the execution needs: it reads the assignments and
    // the credential and opens the shares while the claim commits (an approved request's
    // credential version, assignments and envelopes no longer change under it: a new
    // version cancels it, and then the claim finds it no longer approved).
    const early = approved === undefined ? undefined : this.prepareEarly(approved);
    const claimed = await this.claim(requestId, approved);
    if (claimed === undefined) return this.discard(early);
    const { view, timeoutSeconds } = claimed;
    const request = view.request;
    const timer = this.metrics.duration.startTimer();
    const opened: OpenedShare[] = [];
    let dataKey: Buffer | undefined;
    let secret: Buffer | undefined;
    let prepared = early;
    const signed = signedRequestOf(request);
    try {
      if ('refused' in signed) {
        this.ctx.log.error({ requestId, reason: signed.refused }, 'refused to run a request that no longer matches what was signed');
        return await this.finish(request, 'failed', { error: `nothing ran: ${signed.refused}`, code: 'REQUEST_ALTERED' });
      }
      if (this.ctx.now().getTime() >= signed.expiresAt.getTime()) return await this.expire(request);
      prepared ??= this.prepare(view, signed);
      let assignments: VerifiedAssignment[];
      try {
        assignments = await prepared.assignments;
      } catch (error) {
        if (error instanceof ShareAssignmentIntegrityError) return await this.finish(request, 'failed', { error: 'nothing ran: the credential’s share assignments do not check', code: 'ASSIGNMENTS_ALTERED' });
        throw error;
      }
      const { good, bad } = await prepared.opened;
      opened.push(...good);
      this.metrics.sharesRejected.inc(bad.length);
      if (bad.length > 0 && !(await this.dropBadShares(request, bad, signed))) return;
      const credential = await prepared.credential;
      if (credential === undefined) return await this.finish(request, 'failed', { error: 'the credential no longer exists' });
      const combined = this.combine(view, assignments, good);
      if ('short' in combined) {
        this.ctx.log.error({ requestId, groups: combined.short }, 'too few valid shares of a sharing group: nothing runs');
        return await this.finish(request, 'failed', { error: `nothing ran: too few valid shares of ${combined.short.join(', ')}`, code: 'SHARES_INSUFFICIENT' });
      }
      dataKey = combined.dataKey;
      try {
        secret = await openSealedSecret(credential.sealedSecret, dataKey, { cred: signed.credential.id, ver: signed.credential.version, kind: credential.kind, config: credential.config });
      } catch (error) {
        if (error instanceof CryptoError) return await this.finish(request, 'failed', { error: UNSEAL_FAILURES[error.code] ?? UNSEAL_FAILURES['SECRET_UNSEAL_FAILED'], code: error.code });
        throw error;
      }
      zeroize(dataKey, ...opened.map((s) => s.share));
      if (!(await this.shredShares(request))) return;
      const result = await operationFor(signed.operation.kind).run(this.ctx, signed, { config: credential.config, secret, timeoutSeconds });
      if (result instanceof StagedVersion) return await this.finishStaged(request, result);
      await this.finish(request, 'error' in result ? 'failed' : 'succeeded', result);
    } catch (error) {
      this.ctx.log.error({ err: error, requestId }, 'execution crashed');
      await this.finish(request, 'failed', { error: 'internal error during execution' });
    } finally {
      zeroize(dataKey, secret, ...opened.map((s) => s.share));
      this.discard(prepared);
      timer({ kind: 'refused' in signed ? 'unknown' : signed.operation.kind });
    }
  }

  /**
   * What the execution reads and opens before it can rebuild the credential: the
   * credential's MAC-checked share assignments for the signed version, the credential
   * row, and every approval's share opened and checked against them.
   */
  private prepare(view: RequestView, signed: SignedRequest): Prepared {
    const assignments = verifiedAssignments(this.ctx, view);
    const credential = findCredential(this.ctx.dataSource, signed.credential.id);
    const opened = assignments.then((verified) => this.openShares(view, signed, verified));
    // Awaited by the execution, or not at all when the claim fails: never an unhandled rejection.
    for (const promise of [assignments, credential, opened]) promise.catch(() => undefined);
    return { assignments, credential, opened };
  }

  /** `prepare`, for a request this process has just approved, unless it would not run as signed. */
  private prepareEarly(approved: RequestView): Prepared | undefined {
    const signed = signedRequestOf(approved.request);
    if ('refused' in signed || this.ctx.now().getTime() >= signed.expiresAt.getTime()) return undefined;
    return this.prepare(approved, signed);
  }

  /** Wipes the shares a preparation opened, once it has opened them (again, harmlessly, where the execution did). */
  private discard(prepared: Prepared | undefined): void {
    prepared?.opened.then(
      ({ good }) => zeroize(...good.map((s) => s.share)),
      () => undefined,
    );
  }

  /**
   * Rebuilds the data key. One group: every good share, as always. Grouped (spec §3a):
   * the groups are those of the MAC-checked assignments, each given exactly its
   * threshold of good shares (lowest indexes first), then XORed by the library; a
   * group short of its threshold (the policy or the stored structure was loosened
   * in the database) rebuilds nothing: answered as `short`, naming the groups.
   */
  private combine(view: RequestView, assignments: readonly VerifiedAssignment[], good: readonly OpenedShare[]): { dataKey: Buffer } | { short: string[] } {
    const grouped = assignments.some((a) => a.grp !== null);
    if (!grouped) return { dataKey: combineShares(good.map((s) => s.share)) };
    const count = Math.max(...assignments.map((a) => (a.grp ?? 0) + 1));
    const thresholds = Array.from({ length: count }, (_, grp) => view.sharingGroups[grp]?.threshold ?? Number.POSITIVE_INFINITY);
    const short: string[] = [];
    const picked = thresholds.flatMap((threshold, grp) => {
      const mine = good.filter((s) => s.grp === grp).sort((a, b) => a.idx - b.idx);
      if (mine.length < threshold) short.push(view.sharingGroups[grp]?.name ?? `group ${grp}`);
      return mine.slice(0, threshold).map((s) => ({ grp, idx: s.idx, share: s.share }));
    });
    if (short.length > 0) return { short };
    try {
      return { dataKey: combineGroupedShares(thresholds, picked) };
    } catch (error) {
      if (error instanceof CryptoError) return { short: [error.code] };
      throw error;
    }
  }

  /**
   * `approved → executing`, once: the update is conditional on `approved`, so a second
   * claimant changes nothing and stops. The claim takes a lease of the time limit plus
   * a margin; past it, a sweeper on any replica ends the request `failed`/`interrupted`.
   * The queued fallback job is deleted with the claim. `approved` (the approving
   * process's own copy) saves reading the request again: an approved request's
   * decisions, custodians and policy no longer change. Returns the request as claimed
   * and its time limit.
   */
  private async claim(requestId: string, approved?: RequestView): Promise<{ view: RequestView; timeoutSeconds: number } | undefined> {
    const claimed = await this.audit.transaction(async (tx) => {
      const view = approved ?? (await findRequestView(tx, requestId, true));
      if (view?.request.status !== 'approved') return undefined;
      const limit = view.policy.operationTimeoutSeconds ?? this.ctx.config.operationTimeoutSeconds;
      const leaseUntil = new Date(this.ctx.now().getTime() + executionLeaseMs(limit));
      if (!(await this.lifecycle.transition(tx, view.request, 'executing', { actor: 'system', data: { timeoutSeconds: limit }, leaseUntil }))) return undefined;
      await this.queue.forget(tx, requestId);
      return { view, timeoutSeconds: limit };
    });
    return claimed;
  }

  /**
   * Opens every valid approval's share with the request key and checks it: the
   * envelope's `req`, `idx`, `grp` and `digest` must be this request's, the approver's own
   * group and index (from the credential's MAC-checked share assignments, never the approval row)
   * and the signed digest; the share bytes must carry that index and match its commitment
   * (which binds the group). Each (group, index) counts once.
   */
  private async openShares(
    view: RequestView,
    signed: SignedRequest,
    verified: readonly VerifiedAssignment[],
  ): Promise<{ good: OpenedShare[]; bad: { approverId: string; reason: string }[] }> {
    const request = view.request;
    if (request.requestPrivateKeySealed === null) throw new Error('request key already destroyed');
    const good: OpenedShare[] = [];
    const bad: { approverId: string; reason: string }[] = [];
    const assignments = new Map(verified.map((a) => [a.userId, a]));
    const used = new Set<string>();
    const slot = (a: VerifiedAssignment) => `${a.grp ?? '-'}:${a.index}`;
    return withRequestKey(this.ctx.masterKey, { id: request.id, requestPrivateKeySealed: request.requestPrivateKeySealed }, async (requestKey) => {
      // Opened side by side (the ECDH and AES run on libuv's threads), then counted in the approvals' order.
      const attempts = await Promise.allSettled(
        view.approvals
          .filter((a) => a.decision === 'approve' && a.valid)
          .map(async (approval): Promise<{ approverId: string; assignment?: VerifiedAssignment; share?: Buffer; refused?: string }> => {
            const assignment = assignments.get(approval.approverId);
            if (assignment === undefined) return { approverId: approval.approverId, refused: 'NOT_A_CUSTODIAN' };
            let share: Buffer | undefined;
            try {
              const grp = assignment.grp ?? undefined;
              share = await openShareForRequest(approval.shareEnvelope ?? '', requestKey, { req: signed.id, idx: assignment.index, digest: signed.digest, grp });
              verifyShareCommitment({ cred: signed.credential.id, ver: signed.credential.version, idx: assignment.index, grp, share }, assignment.commitment);
              return { approverId: approval.approverId, assignment, share };
            } catch (error) {
              zeroize(share);
              if (!(error instanceof CryptoError)) throw error;
              return { approverId: approval.approverId, assignment, refused: error.code };
            }
          }),
      );
      const failure = attempts.find((a) => a.status === 'rejected');
      if (failure !== undefined) {
        zeroize(...attempts.flatMap((a) => (a.status === 'fulfilled' && a.value.share !== undefined ? [a.value.share] : [])));
        throw failure.reason;
      }
      for (const attempt of attempts) {
        if (attempt.status !== 'fulfilled') continue;
        const { approverId, assignment, share, refused } = attempt.value;
        if (assignment !== undefined && used.has(slot(assignment))) {
          zeroize(share);
          bad.push({ approverId, reason: 'INDEX_COUNTED_ALREADY' });
        } else if (assignment === undefined || share === undefined) {
          bad.push({ approverId, reason: refused ?? 'NOT_A_CUSTODIAN' });
        } else {
          used.add(slot(assignment));
          good.push({ approverId, grp: assignment.grp, idx: assignment.index, share });
        }
      }
      return { good, bad };
    });
  }

  /**
   * Marks the bad shares' approvals invalid, naming their submitters in the audit
   * log, and re-evaluates the policy with what is left: still met → go on with the
   * good shares; not met → back to `pending` for honest custodians to complete.
   */
  private async dropBadShares(request: RequestRow, bad: { approverId: string; reason: string }[], signed: SignedRequest): Promise<boolean> {
    return this.audit.transaction(async (tx) => {
      const locked = await findRequestView(tx, request.id, true);
      if (locked?.request.status !== 'executing') return false;
      for (const { approverId, reason } of bad) {
        await invalidateApproval(tx, request.id, approverId, reason);
        await this.audit.append(tx, { actor: 'system', action: 'request.share_rejected', subject: `request:${request.id}`, data: { approverId, reason } });
      }
      const invalid = new Set(bad.map((b) => b.approverId));
      const votes = votesOf(locked).map((v) => (invalid.has(v.userId) ? { ...v, valid: false } : v));
      const outcome = evaluatePolicy(signed.policy, votedRequestOf(locked), votes, this.ctx.now());
      if (outcome.status === 'approved') {
        this.lifecycle.announceUnchanged(tx, request, 'executing');
        return true;
      }
      await this.lifecycle.resolve(tx, locked.request, outcome, 'system');
      return false;
    });
  }

  /** An approved request whose signed expiry passed before it ran: it never runs (spec §2 item 9). */
  private async expire(request: RequestRow): Promise<void> {
    await this.audit.transaction((tx) => this.lifecycle.transition(tx, { ...request, status: 'executing' }, 'expired', { actor: 'system', data: { reason: 'expired before it ran' } }));
  }

  /**
   * Spec §2 item 14: with the credential rebuilt, the request key and the share
   * envelopes are of no more use; destroyed before the operation runs, they cannot
   * leak with it. False when the request is no longer this execution's.
   */
  private shredShares(request: RequestRow): Promise<boolean> {
    return this.audit.transaction((tx) => this.lifecycle.shredBeforeRun(tx, request));
  }

  private async finish(request: RequestRow, status: 'succeeded' | 'failed', result: Record<string, unknown>): Promise<void> {
    const kind = signedKindOf(request);
    const finished = await this.audit.transaction((tx) =>
      this.lifecycle.transition(tx, { ...request, status: 'executing' }, status, {
        actor: 'system',
        result: storableJson(result),
        data: {
          resultSha256: sha256Hex(canonicalJson(result)),
          ...(status === 'failed' ? { error: result['error'] } : {}),
          ...(kind !== undefined ? operationFor(kind).finalAuditData : {}),
        },
      }),
    );
    if (finished) this.metrics.finished.inc({ kind: kind ?? 'unknown', status });
  }

  /**
   * Ends a custody request (spec §4a): its new credential version is stored by
   * `staged.commit` in the same transaction that moves the request to `succeeded` (or
   * `failed`, when the commit answers an error and writes nothing). A request no longer
   * `executing` (swept as interrupted meanwhile) rolls the whole transaction back: no
   * version without the request that made it.
   */
  private async finishStaged(request: RequestRow, staged: StagedVersion): Promise<void> {
    const kind = signedKindOf(request) ?? 'unknown';
    let status: 'succeeded' | 'failed' = 'failed';
    try {
      await this.audit.transaction(async (tx) => {
        const result = await staged.commit(tx, { audit: this.audit, lifecycle: this.lifecycle, now: this.ctx.now() });
        status = 'error' in result ? 'failed' : 'succeeded';
        const moved = await this.lifecycle.transition(tx, { ...request, status: 'executing' }, status, {
          actor: 'system',
          result: storableJson(result),
          data: { resultSha256: sha256Hex(canonicalJson(result)), ...(status === 'failed' ? { error: result['error'] } : {}), custody: true },
        });
        if (!moved) throw new ExecutionLost();
      });
    } catch (error) {
      if (error instanceof ExecutionLost) return;
      throw error;
    }
    this.metrics.finished.inc({ kind, status });
  }
}

/** The request was no longer this execution's when its new credential version was to be stored: nothing is stored. */
class ExecutionLost extends Error {}

/** The operation kind the digest input names, if it names a known one (a database writer may have broken it). */
function signedKindOf(request: RequestRow): OperationKind | undefined {
  const kind: unknown = (request.digestInput as Partial<RequestRow['digestInput']> | null)?.operation?.kind;
  return isOperationKind(kind) ? kind : undefined;
}

/** What each way of failing to open the sealed secret means to the requester. */
const UNSEAL_FAILURES: Partial<Record<string, string>> = {
  SECRET_UNSEAL_FAILED: 'the credential could not be reconstructed from the approved shares',
  ENVELOPE_HEADER_MISMATCH: 'the credential is no longer at the version this request was approved for',
  SECRET_BINDING_MISSING: 'the credential was sealed before its kind and config were bound to it: create it anew',
  SECRET_BINDING_MISMATCH: 'the credential config or kind differs from the one sealed with the secret: refused',
};

/** jsonb cannot hold U+0000; an operation's output may. Each one becomes U+FFFD, visibly. */
export function storableJson<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\ufffd') as T;
  if (Array.isArray(value)) return value.map((v: unknown) => storableJson(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableJson(k), storableJson(v)])) as T;
  }
  return value;
}
