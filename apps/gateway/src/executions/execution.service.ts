import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  canonicalJson,
  combineShares,
  CryptoError,
  importRequestPrivateKey,
  openSealedSecret,
  openShareForRequest,
  openWithMasterKey,
  sealToPublicKey,
  sha256Hex,
  verifyShareCommitment,
  zeroize,
  type JWK,
} from '#libs/crypto';
import { executorFor, ExecutorError, runWithTimeout } from '#libs/executors';
import { evaluatePolicy } from '#libs/policy';
import { AuditWriter } from '../audit/audit-writer.js';
import { findCredential } from '../credentials/credentials.repository.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { findUserById } from '../users/accounts.repository.js';
import { findRequestView, invalidateApproval, setStatus, type RequestRow, type RequestView } from '../requests/requests.repository.js';
import { RequestsService, requestKeyPurpose, votesOf } from '../requests/requests.service.js';
import { ExecutionQueue } from './execution-queue.js';
import { executionLeaseMs } from './maintenance.service.js';
import { executionMetrics } from './execution-metrics.js';

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
    private readonly requests: RequestsService,
    private readonly queue: ExecutionQueue,
  ) {
    this.metrics = executionMetrics(ctx.metrics);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.start((requestId, approved) => this.execute(requestId, approved));
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
      const result = await this.run(request, credential.config, secret, timeoutSeconds);
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
      if (!(await setStatus(tx, requestId, 'executing', { leaseUntil, from: 'approved' }))) return undefined;
      await this.queue.forget(tx, requestId);
      await this.audit.append(tx, { actor: 'system', action: 'request.executing', subject: `request:${requestId}`, data: { timeoutSeconds: limit } });
      this.requests.publish(tx, view.request, 'executing');
      return { view, timeoutSeconds: limit };
    });
    return claimed;
  }

  /** Opens every valid approval's share with the request key and checks it against its commitment. */
  private async openShares(view: RequestView): Promise<{ good: OpenedShare[]; bad: { approverId: string; reason: string }[] }> {
    const request = view.request;
    if (request.requestPrivateKeySealed === null) throw new Error('request key already destroyed');
    const privateBytes = await openWithMasterKey(request.requestPrivateKeySealed, this.ctx.masterKey, requestKeyPurpose(request.id));
    const good: OpenedShare[] = [];
    const bad: { approverId: string; reason: string }[] = [];
    try {
      const requestKey = await importRequestPrivateKey(JSON.parse(privateBytes.toString('utf8')) as JWK);
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
    } finally {
      zeroize(privateBytes);
    }
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
      const outcome = evaluatePolicy(locked.policy, { requesterId: locked.request.requesterId, expiresAt: locked.request.expiresAt, custodianIds: locked.custodianIds }, votes, this.ctx.now());
      const stillApproved = outcome.status === 'approved';
      if (!stillApproved) await this.requests.applyOutcome(tx, locked.request, outcome, 'system');
      this.requests.publish(tx, request, stillApproved ? 'executing' : outcome.status);
      return stillApproved;
    });
  }

  private async run(request: RequestRow, config: Record<string, unknown>, secret: Buffer, timeoutSeconds: number): Promise<Record<string, unknown>> {
    if (request.operation.kind === 'reveal') return this.reveal(request, secret);
    try {
      const result = await runWithTimeout(executorFor(request.operation.kind), { secret, config, params: request.operation.params }, timeoutSeconds * 1000);
      // An API that refuses the credential did not run the operation: that is a failure, not a result.
      if (request.operation.kind === 'http' && (result['status'] === 401 || result['status'] === 403)) {
        return { ...result, error: `the upstream refused the credential (HTTP ${String(result['status'])})`, code: 'UPSTREAM_REFUSED' };
      }
      return result;
    } catch (error) {
      if (error instanceof ExecutorError) return { error: error.message, code: error.code };
      throw error;
    }
  }

  /** Break-glass: the secret itself, sealed to the requester's own encryption key. */
  private async reveal(request: RequestRow, secret: Buffer): Promise<Record<string, unknown>> {
    const requester = await findUserById(this.ctx.dataSource, request.requesterId);
    if (requester?.encryptionKey == null) return { error: 'the requester has no enrolled encryption key', code: 'KEYS_NOT_ENROLLED' };
    return { envelope: await sealToPublicKey(secret, requester.encryptionKey, { req: request.id, cred: request.credentialId }) };
  }

  private async finish(request: RequestRow, status: 'succeeded' | 'failed', result: Record<string, unknown>): Promise<void> {
    const finished = await this.audit.transaction(async (tx) => {
      if (!(await setStatus(tx, request.id, status, { result: storableJson(result), from: 'executing' }))) return false;
      await this.audit.append(tx, {
        actor: 'system',
        action: `request.${status}`,
        subject: `request:${request.id}`,
        data: {
          resultSha256: sha256Hex(canonicalJson(result)),
          ...(status === 'failed' ? { error: result['error'] } : {}),
          ...(request.operation.kind === 'reveal' ? { breakGlass: true } : {}),
          requestKeyDestroyed: true,
        },
      });
      this.requests.publish(tx, request, status);
      return true;
    });
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
