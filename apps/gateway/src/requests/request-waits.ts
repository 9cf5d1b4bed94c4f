import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { isFinalRequestStatus } from '#libs/contracts';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { CAPPED_RETRY_AFTER_SECONDS, ConcurrencyCap, WAITS_PER_PRINCIPAL, WAITS_TOTAL } from '../http/load-caps.js';
import { findRequest } from './requests.repository.js';
import { RequestEvents } from './request-events.js';

/** How often a request someone waits for is read again (another replica may have finished it). */
export const WAIT_POLL_MS = 1000;

interface Watched {
  wakers: Set<() => void>;
  poll: NodeJS.Timeout;
}

/**
 * Long polls on requests, shared: however many callers wait on one request, one
 * subscription to request changes serves them all and one database read per
 * `WAIT_POLL_MS` looks for an end another replica made. A waiter leaves at its
 * timeout, when the request ends, or when its signal aborts (the client went away),
 * and the request's poll stops with its last waiter.
 */
@Injectable()
export class RequestWaits implements BeforeApplicationShutdown {
  private readonly watched = new Map<string, Watched>();
  private unsubscribe: (() => void) | undefined;
  /** Open long polls, per principal and in all (load-caps.ts). */
  readonly cap = new ConcurrencyCap(WAITS_PER_PRINCIPAL, WAITS_TOTAL);

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly events: RequestEvents,
  ) {}

  /** A place for one more long poll of this caller (release it when the poll ends), or 429 TOO_MANY_OPEN. */
  admit(principal: Principal): () => void {
    const release = this.cap.tryAcquire(`${principal.kind}:${principal.id}`);
    if (release !== undefined) return release;
    const whose = this.cap.countOf(`${principal.kind}:${principal.id}`) >= this.cap.perKey ? `you have ${this.cap.perKey} open already` : 'the gateway holds as many as it takes';
    throw new AppError('TOO_MANY_OPEN', `too many long polls: ${whose}; try again later`, { retryAfterSeconds: CAPPED_RETRY_AFTER_SECONDS });
  }

  /** Resolves when the request is final, at the timeout, or at once when `signal` aborts. */
  until(id: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const watched = this.watch(id);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        watched.wakers.delete(done);
        if (watched.wakers.size === 0) this.unwatch(id, watched);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      watched.wakers.add(done);
    });
  }

  /** Requests with at least one waiter, and waiters in all: what the shared polls cost. */
  get stats(): { requests: number; waiters: number } {
    let waiters = 0;
    for (const w of this.watched.values()) waiters += w.wakers.size;
    return { requests: this.watched.size, waiters };
  }

  beforeApplicationShutdown(): void {
    for (const [id, watched] of this.watched) this.wake(id, watched);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private watch(id: string): Watched {
    this.unsubscribe ??= this.events.subscribe((change) => {
      const watched = this.watched.get(change.id);
      if (watched !== undefined && isFinalRequestStatus(change.status)) this.wake(change.id, watched);
    });
    let watched = this.watched.get(id);
    if (watched === undefined) {
      const poll = setInterval(() => {
        findRequest(this.ctx.dataSource, id)
          .then((r) => {
            const current = this.watched.get(id);
            if (r !== undefined && isFinalRequestStatus(r.status) && current !== undefined) this.wake(id, current);
          })
          .catch(() => undefined);
      }, WAIT_POLL_MS);
      poll.unref();
      watched = { wakers: new Set(), poll };
      this.watched.set(id, watched);
    }
    return watched;
  }

  private wake(id: string, watched: Watched): void {
    for (const done of [...watched.wakers]) done();
    this.unwatch(id, watched);
  }

  private unwatch(id: string, watched: Watched): void {
    clearInterval(watched.poll);
    if (this.watched.get(id) === watched) this.watched.delete(id);
  }
}
