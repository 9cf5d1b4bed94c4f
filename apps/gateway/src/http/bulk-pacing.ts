import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, type Registry } from 'prom-client';
import { statusForCode, type AppErrorCode } from './app-error.js';
import { DropPacing, DROPS_PER_KEY, DROPS_TOTAL, PACED_PER_KEY, PACED_TOTAL, PASSWORD_BUSY_RETRY_AFTER_SECONDS, REFUSAL_HOLD_MS, REFUSALS_HELD } from './load-caps.js';
import { problem, PROBLEM_CONTENT_TYPE } from './problem.js';
import { setSecurityHeaders } from './security-headers.js';

const LOGIN_PATH = '/api/v1/auth/login';
/** Long polls and event streams: what a flood opens and drops. */
const DROPPABLE = /^\/api\/v1\/(?:requests\/[^/?]+\/wait|events)(?:\?|$)/;

export interface BulkPacingOptions {
  /** True when a login now would be refused 503 BUSY (the login queue is full). */
  loginQueueFull: () => boolean;
  sessionCookie: string;
  metrics: Registry;
}

/**
 * The first handler of every call, in front of Express, logging, body parsing and Nest (issue
 * 15 item 5, docs/adr/0025): what a flood sends is answered or held back here, for
 * the price of its HTTP parsing, so that the approval path keeps the event loop.
 * - A login while the login queue is full is refused 503 BUSY here, without reading
 *   its body, and the refusal is held REFUSAL_HOLD_MS: a sprayer that retries at once
 *   then sends a few a second per connection, not thousands.
 * - A long poll or event stream whose caller (its bearer token or session cookie)
 *   has dropped too many, or while everyone has, waits here until that caller's
 *   budget refills (`DropPacing`); if its client leaves meanwhile, nothing else is
 *   done for it. Past PACED_PER_KEY or PACED_TOTAL waiting, 429 TOO_MANY_OPEN, held.
 *   A drop is a call whose client closed before its answer was sent.
 */
export function bulkPacing(options: BulkPacingOptions) {
  const pacing = new DropPacing(DROPS_PER_KEY, DROPS_TOTAL);
  const shed = new Counter({
    name: 'qg_shed_calls_total',
    help: 'Calls answered or held back before routing under a flood: refused (login queue full, too many held back) or paced (held back until the caller may go on)',
    labelNames: ['route', 'outcome'] as const,
    registers: [options.metrics],
  });
  const heldBack = new Map<string, number>();
  let heldBackTotal = 0;
  let refusalsHeld = 0;

  /** Sends a refusal after REFUSAL_HOLD_MS (at once, closing the connection, when too many are held). */
  const refuse = (req: IncomingMessage, res: ServerResponse, code: AppErrorCode, detail: string, retryAfterSeconds: number) => {
    const id = randomUUID();
    const status = statusForCode(code);
    const body = JSON.stringify(problem(status, detail, { code, correlationId: id, retryAfterSeconds }));
    setSecurityHeaders(res, (req.url ?? '').split('?')[0]!);
    const headers = { 'content-type': PROBLEM_CONTENT_TYPE, 'retry-after': String(retryAfterSeconds), 'x-request-id': id };
    if (refusalsHeld >= REFUSALS_HELD) {
      res.writeHead(status, { ...headers, connection: 'close' }).end(body);
      return;
    }
    refusalsHeld++;
    const send = () => {
      refusalsHeld--;
      res.off('close', gone);
      if (!res.destroyed) res.writeHead(status, headers).end(body);
    };
    const gone = () => {
      clearTimeout(timer);
      refusalsHeld--;
    };
    const timer = setTimeout(send, REFUSAL_HOLD_MS);
    res.once('close', gone);
  };

  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (req.method === 'POST' && (req.url === LOGIN_PATH || req.url?.startsWith(LOGIN_PATH + '?') === true)) {
      if (!options.loginQueueFull()) return next();
      shed.inc({ route: 'login', outcome: 'refused' });
      return refuse(req, res, 'BUSY', 'too many logins are waiting; try again shortly', PASSWORD_BUSY_RETRY_AFTER_SECONDS);
    }
    const url = req.url ?? '';
    if (req.method !== 'GET' || !DROPPABLE.test(url)) return next();
    const route = url.startsWith('/api/v1/events') ? 'events' : 'wait';
    const key = callerKey(req, options.sessionCookie);
    res.once('close', () => {
      if (!res.writableFinished) pacing.recordDrop(key);
    });
    const wait = pacing.waitMs(key);
    if (wait === 0) return next();
    const mine = heldBack.get(key) ?? 0;
    if (mine >= PACED_PER_KEY || heldBackTotal >= PACED_TOTAL) {
      shed.inc({ route, outcome: 'refused' });
      const whose = mine >= PACED_PER_KEY ? 'you have dropped many long polls or streams' : 'many long polls and streams are being dropped';
      return refuse(req, res, 'TOO_MANY_OPEN', `${whose}; try again in ${Math.ceil(wait / 1000)} s`, Math.ceil(wait / 1000));
    }
    shed.inc({ route, outcome: 'paced' });
    heldBack.set(key, mine + 1);
    heldBackTotal++;
    let settled = false;
    const letGo = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      heldBackTotal--;
      const left = (heldBack.get(key) ?? 1) - 1;
      if (left === 0) heldBack.delete(key);
      else heldBack.set(key, left);
    };
    const retry = () => {
      const again = pacing.waitMs(key);
      if (again > 0) {
        timer = setTimeout(retry, again);
        return;
      }
      letGo();
      res.off('close', letGo);
      next();
    };
    let timer = setTimeout(retry, wait);
    res.once('close', letGo);
  };
}

/**
 * Whose budget a call spends: its bearer token or session cookie, hashed (the map
 * outlives the call and should not hold credentials). Checked later, as for any
 * call; a made-up credential only gets a budget of its own, and everyone's paces it.
 */
function callerKey(req: IncomingMessage, sessionCookie: string): string {
  const authorization = req.headers.authorization;
  const cookie = authorization === undefined ? cookieValue(req.headers.cookie, sessionCookie) : undefined;
  const credential = authorization ?? cookie ?? `address:${req.socket.remoteAddress ?? ''}`;
  return createHash('sha256').update(credential).digest('base64url').slice(0, 22);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

