import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { canonicalJson, combineShares, CryptoError, openSealedSecret, openShareForRequest, sha256Hex, verifyShareCommitment, zeroize } from '#libs/crypto';
import { evaluatePolicy } from '#libs/policy';
import { AuditWriter } from '../audit/audit-writer.js';
import { findCredential } from '../credentials/credentials.repository.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { operationFor } from '../operations/operations.js';
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
  share: Buffer;
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

  async execute(requestId: string, approved?: RequestView): Promise<void> {
    const claimed = await this.claim(requestId, approved);
    if (claimed === undefined) return;
    const { view, timeoutSeconds } = claimed;
    const request = view.request;
    const timer = this.metrics.duration.startTimer();
    const opened: OpenedShare[] = [];
    let dataKey: Buffer | undefined;
    let secret: Buffer | undefined;
    try {
      const { good, bad } = await this.openShares(view);
      opened.push(...good);
      this.metrics.sharesRejected.inc(bad.length);
      if (bad.length > 0 && !(await this.dropBadShares(request, bad))) return;
      const credential = await findCredential(this.ctx.dataSource, request.credentialId);
      if (credential === undefined) return await this.finish(request, 'failed', { error: 'the credential no longer exists' });
      dataKey = combineShares(good.map((s) => s.share));
      try {
        secret = await openSealedSecret(credential.sealedSecret, dataKey, { cred: credential.id, ver: credential.version });
      } catch (error) {
        if (error instanceof CryptoError) return await this.finish(request, 'failed', { error: 'the credential could not be reconstructed from the approved shares' });
        throw error;
      }
      const result = await operationFor(request.operation.kind).run(this.ctx, request, { config: credential.config, secret, timeoutSeconds });
      await this.finish(request, 'error' in result ? 'failed' : 'succeeded', result);
    } catch (error) {
      this.ctx.log.error({ err: error, requestId }, 'execution crashed');
      await this.finish(request, 'failed', { error: 'internal error during execution' });
    } finally {
      zeroize(dataKey, secret, ...opened.map((s) => s.share));
      const kind = request.operation.kind;
      timer({ kind });
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

  /** Opens every valid approval's share with the request key and checks it against its commitment. */
  private async openShares(view: RequestView): Promise<{ good: OpenedShare[]; bad: { approverId: string; reason: string }[] }> {
    const request = view.request;
    if (request.requestPrivateKeySealed === null) throw new Error('request key already destroyed');
    const good: OpenedShare[] = [];
    const bad: { approverId: string; reason: string }[] = [];
    return withRequestKey(this.ctx.masterKey, { id: request.id, requestPrivateKeySealed: request.requestPrivateKeySealed }, async (requestKey) => {
      const commitments = new Map(view.custodians.map((c) => [c.index, c.commitment]));
      const approvals = view.approvals.filter((a) => a.decision === 'approve' && a.valid);
      for (const approval of approvals) {
        const index = approval.shareIndex ?? 0;
        let share: Buffer | undefined;
        try {
          share = await openShareForRequest(approval.shareEnvelope ?? '', requestKey, { req: request.id, idx: index });
          verifyShareCommitment({ cred: request.credentialId, ver: request.credentialVersion, idx: index, share }, commitments.get(index) ?? '');
          good.push({ approverId: approval.approverId, share });
        } catch (error) {
          zeroize(share);
          if (!(error instanceof CryptoError)) throw error;
          bad.push({ approverId: approval.approverId, reason: error.code });
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
  private async dropBadShares(request: RequestRow, bad: { approverId: string; reason: string }[]): Promise<boolean> {
    return this.audit.transaction(async (tx) => {
      const locked = await findRequestView(tx, request.id, true);
      if (locked?.request.status !== 'executing') return false;
      for (const { approverId, reason } of bad) {
        await invalidateApproval(tx, request.id, approverId, reason);
        await this.audit.append(tx, { actor: 'system', action: 'request.share_rejected', subject: `request:${request.id}`, data: { approverId, reason } });
      }
      const invalid = new Set(bad.map((b) => b.approverId));
      const votes = votesOf(locked).map((v) => (invalid.has(v.userId) ? { ...v, valid: false } : v));
      const outcome = evaluatePolicy(locked.policy, votedRequestOf(locked), votes, this.ctx.now());
      if (outcome.status === 'approved') {
        this.lifecycle.announceUnchanged(tx, request, 'executing');
        return true;
      }
      await this.lifecycle.resolve(tx, locked.request, outcome, 'system');
      return false;
    });
  }

  private async finish(request: RequestRow, status: 'succeeded' | 'failed', result: Record<string, unknown>): Promise<void> {
    const finished = await this.audit.transaction((tx) =>
      this.lifecycle.transition(tx, { ...request, status: 'executing' }, status, {
        actor: 'system',
        result: storableJson(result),
        data: {
          resultSha256: sha256Hex(canonicalJson(result)),
          ...(status === 'failed' ? { error: result['error'] } : {}),
          ...operationFor(request.operation.kind).finalAuditData,
        },
      }),
    );
    if (finished) this.metrics.finished.inc({ kind: request.operation.kind, status });
  }
}

/** jsonb cannot hold U+0000; an operation's output may. Each one becomes U+FFFD, visibly. */
export function storableJson<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\ufffd') as T;
  if (Array.isArray(value)) return value.map((v: unknown) => storableJson(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableJson(k), storableJson(v)])) as T;
  }
  return value;
}
