import { Inject, Injectable } from '@nestjs/common';
import { isFinalRequestStatus, type RequestStatus } from '#libs/contracts';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { canSee } from './request-access.js';
import { withPublicRequestKey } from './request-keys.js';
import { RequestWaits } from './request-waits.js';
import { findCheckedRequestShare } from '../credentials/share-assignments.js';
import { findRequestView, findRequestViews, listRequests, type RequestView } from './requests.repository.js';

/** What callers may read of requests: one, a list, their own share, and a long poll for the end. */
@Injectable()
export class RequestReader {
  /** Reads of one request in flight for long polls, shared by every poll that arrives meanwhile. */
  private readonly waitReads = new Map<string, Promise<RequestView>>();

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly waits: RequestWaits,
  ) {}

  /** The request as the caller may see it, with its public key. */
  async get(principal: Principal, id: string): Promise<RequestView> {
    const view = await this.view(id);
    if (!this.canSee(principal, view)) throw new AppError('NOT_FOUND', 'no such request');
    return this.present(view);
  }

  /** The requests the caller may see; `approvable`: only those they may still decide (as `applyVote` would let them). */
  /** One page, newest first; `more` when another page follows this one. */
  async list(principal: Principal, query: { status?: RequestStatus; approvable?: boolean; limit: number; afterId?: string }): Promise<{ views: RequestView[]; more: boolean }> {
    if (query.approvable === true && !principal.roles.includes('operator')) return { views: [], more: false };
    const rows = await listRequests(this.ctx.dataSource, {
      status: query.status,
      limit: query.limit + 1,
      afterId: query.afterId,
      visibleTo: principal,
      approvableBy: query.approvable === true ? principal.id : undefined,
    });
    const page = rows.slice(0, query.limit);
    const views = await Promise.all((await findRequestViews(this.ctx.dataSource, page.map((r) => r.id))).map((view) => this.present(view)));
    return { views, more: rows.length > query.limit };
  }

  /** The caller's own share envelope for this request's credential version. */
  async share(principal: Principal, id: string): Promise<{ envelope: string; index: number; group: number | null; version: number }> {
    const found = await findCheckedRequestShare(this.ctx, id, principal.id);
    if (found === undefined) throw new AppError('NOT_FOUND', 'no such request');
    if (found.share === null) throw new AppError('APPROVER_NOT_ELIGIBLE', 'you are not a custodian of this credential');
    if (found.status !== 'pending') throw new AppError('REQUEST_NOT_PENDING', `the request is ${found.status}`);
    return found.share;
  }

  /**
   * Resolves with the request once it is final, or as it is when the time is up; at
   * once, with nothing to answer, when `signal` aborts (the client went away). Many
   * waiters on one request share one poll (`RequestWaits`).
   */
  async waitForFinal(principal: Principal, id: string, timeoutSeconds: number, signal: AbortSignal): Promise<RequestView | undefined> {
    // The public key is derived only for an answer: a poll that is dropped costs no unsealing.
    const initial = await this.sharedView(id);
    if (!this.canSee(principal, initial)) throw new AppError('NOT_FOUND', 'no such request');
    if (isFinalRequestStatus(initial.request.status) || timeoutSeconds === 0) return this.present(initial);
    await this.waits.until(id, timeoutSeconds * 1000, signal);
    if (signal.aborted) return undefined;
    return this.present(await this.view(id));
  }

  /**
   * Adds the request's public key, derived from its sealed private key: what an answer
   * shows; for a re-share, the names of the custodians it names, so approvers read who
   * receives the new shares (spec §4a).
   */
  async present(view: RequestView): Promise<RequestView> {
    const presented = await withPublicRequestKey(this.ctx.masterKey, view);
    const op = view.request.digestInput.operation;
    if (op.kind !== 'credential.reshare') return presented;
    const ids = JSON.stringify(op.params).match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? [];
    if (ids.length === 0) return presented;
    const rows: { id: string; username: string }[] = await this.ctx.dataSource.query(`SELECT id, username FROM users WHERE id = ANY($1::uuid[])`, [[...new Set(ids)]]);
    return { ...presented, names: { ...Object.fromEntries(rows.map((r) => [r.id, r.username])), ...presented.names } };
  }

  canSee(principal: Principal, view: RequestView): boolean {
    return canSee(principal, view.request, view.custodianIds);
  }

  /**
   * `view`, shared by the long polls that ask for the same request while a read of it
   * is in flight: a flood of polls on one request costs the database one read at a
   * time, not one each (issue 15). A poll that joins a read begun just before it came
   * sees no older state than one that came a moment earlier, and any change after the
   * read wakes it as it would have (RequestWaits).
   */
  private sharedView(id: string): Promise<RequestView> {
    let read = this.waitReads.get(id);
    if (read === undefined) {
      read = this.view(id).finally(() => this.waitReads.delete(id));
      this.waitReads.set(id, read);
    }
    return read;
  }

  /** The request as stored, without its public key: for decisions about it, not for answers. */
  async view(id: string): Promise<RequestView> {
    const view = await findRequestView(this.ctx.dataSource, id);
    if (view === undefined) throw new AppError('NOT_FOUND', 'no such request');
    return view;
  }
}
