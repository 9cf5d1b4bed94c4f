import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, isRecord, type ApiClient } from './api-client.js';
import { isFinal, type RequestView } from './api-types.js';
import { CliError, ExitCode } from './exit-codes.js';
import { describeApprovals, timeLeft } from './render.js';

/**
 * Live progress on stderr: on a terminal one line redrawn every second (the
 * expiry counts down); otherwise one line per change, for CI logs.
 */
class Progress {
  private last = '';
  private latest: RequestView | undefined;
  private readonly ticker: NodeJS.Timeout | undefined;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly quiet: boolean) {
    if (this.tty && !quiet) {
      this.ticker = setInterval(() => this.draw(), 1000);
      this.ticker.unref();
    }
  }

  update(view: RequestView): void {
    if (this.latest !== undefined && Date.parse(view.updatedAt) < Date.parse(this.latest.updatedAt)) return;
    this.latest = view;
    this.draw();
  }

  private draw(): void {
    const view = this.latest;
    if (view === undefined || this.quiet) return;
    const head = `request ${view.id}: ${view.status} · approvals ${describeApprovals(view)}`;
    if (this.tty) {
      const tail = isFinal(view.status) ? '' : ` · ${timeLeft(view.expiresAt)}`;
      process.stderr.write(`\r\u001b[2K${head}${tail}`);
      this.last = head;
      return;
    }
    if (head === this.last) return;
    this.last = head;
    process.stderr.write(`${head}${isFinal(view.status) ? '' : ` · ${timeLeft(view.expiresAt)}`}\n`);
  }

  stop(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    if (this.tty && !this.quiet && this.last !== '') process.stderr.write('\n');
  }
}

export interface WaitOptions {
  /** give up after this many seconds (exit 4); default: until the request ends */
  timeoutSeconds?: number;
  quiet?: boolean;
}

const LONG_POLL_SECONDS = 25;
const LONG_POLL_WITHOUT_EVENTS = 5;
const MAX_RETRIES = 5;

/**
 * Waits for the request to reach a final state: long polls on
 * `GET /requests/:id/wait` (the source of truth) while the event stream, when
 * available, refreshes the progress line as soon as someone decides. Transient
 * network errors and 5xx answers are retried with a growing pause.
 */
export async function waitForFinal(api: ApiClient, id: string, options: WaitOptions = {}): Promise<{ view: RequestView; timedOut: boolean }> {
  const deadline = options.timeoutSeconds !== undefined ? Date.now() + options.timeoutSeconds * 1000 : undefined;
  const progress = new Progress(options.quiet === true);
  const abort = new AbortController();
  let eventsConnected = false;
  let view = await api.get<RequestView>(`/api/v1/requests/${encodeURIComponent(id)}`);
  progress.update(view);
  const onInterrupt = () => {
    progress.stop();
    process.stderr.write(`qg: interrupted; request ${id} is ${view.status}: resume with qg wait ${id}, or qg cancel ${id}\n`);
    process.exit(ExitCode.interrupted);
  };
  process.once('SIGINT', onInterrupt);
  if (!isFinal(view.status)) {
    void (async () => {
      try {
        for await (const event of api.events('/api/v1/events', abort.signal)) {
          eventsConnected = true;
          if (event.event !== 'request' || eventRequestId(event.data) !== id) continue;
          progress.update(await api.get<RequestView>(`/api/v1/requests/${encodeURIComponent(id)}`, { signal: abort.signal }));
        }
      } catch {
        // no event stream: the long poll still brings every change, only later
      } finally {
        eventsConnected = false;
      }
    })();
  }
  try {
    let failures = 0;
    while (!isFinal(view.status)) {
      const remainingMs = deadline !== undefined ? deadline - Date.now() : Number.POSITIVE_INFINITY;
      if (remainingMs <= 0) return { view, timedOut: true };
      const chunk = Math.max(1, Math.min(Math.ceil(remainingMs / 1000), eventsConnected ? LONG_POLL_SECONDS : LONG_POLL_WITHOUT_EVENTS));
      try {
        view = await api.get<RequestView>(`/api/v1/requests/${encodeURIComponent(id)}/wait?timeoutSeconds=${chunk}`, { signal: abort.signal });
        failures = 0;
        progress.update(view);
      } catch (error) {
        const transient = (error instanceof ApiError && error.status >= 500) || (error instanceof CliError && !(error instanceof ApiError));
        if (!transient || ++failures > MAX_RETRIES) throw error;
        process.stderr.write(`qg: ${error.message}; retrying (${failures}/${MAX_RETRIES})\n`);
        await sleep(Math.min(1000 * 2 ** (failures - 1), 8000));
      }
    }
    return { view, timedOut: false };
  } finally {
    process.off('SIGINT', onInterrupt);
    abort.abort();
    progress.stop();
  }
}

function eventRequestId(data: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    return isRecord(parsed) && typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}
