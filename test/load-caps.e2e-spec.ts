import { GLOBAL_LOGIN_FAILURES_ALLOWED, NETWORK_LOGIN_FAILURES_ALLOWED } from '../apps/gateway/src/auth/login-throttle.js';
import { UnknownLoginTally } from '../apps/gateway/src/auth/unknown-login-tally.js';
import {
  DROPS_PER_KEY,
  LOGIN_QUEUE,
  LOGINS_AT_ONCE,
  PASSWORD_HASH_QUEUE,
  PASSWORD_HASHES_AT_ONCE,
  REFUSAL_HOLD_MS,
  STREAMS_PER_PRINCIPAL,
  WAITS_PER_PRINCIPAL,
} from '../apps/gateway/src/http/load-caps.js';
import { EventsController } from '../apps/gateway/src/requests/events.controller.js';
import { RequestWaits } from '../apps/gateway/src/requests/request-waits.js';
import { dumpAllTables } from './support/leak-scan.js';
import { Http, type HttpResult } from './support/http.js';
import { createUser, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/** Issue 15 item 5: capped streams and long polls, shared polls, throttled and capped logins. */
describe.each(testDatabaseKinds())('capped load (%s database)', (kind) => {
  let gateway: TestGateway;
  let anonymous: Http;
  let q: QuorumSetup;

  beforeAll(async () => {
    // Behind a "proxy" on loopback, so that tests can speak from many client addresses.
    gateway = await startTestGateway(kind, { trustProxy: ['loopback'] });
    anonymous = new Http(gateway.url);
    q = await setUpSigningQuorum(anonymous);
  });
  afterAll(() => gateway.close());

  function expectProblem(res: HttpResult, status: number, code?: string): void {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    if (code !== undefined) expect(res.body.code).toBe(code);
  }

  async function submit(): Promise<string> {
    const res = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name));
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function until(check: () => boolean, ms = 5000): Promise<void> {
    const started = Date.now();
    while (!check()) {
      if (Date.now() - started > ms) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Opens a long poll; `drop()` goes away without reading the answer. */
  function openWait(http: Http, id: string, timeoutSeconds = 30) {
    const controller = new AbortController();
    const answer = fetch(`${gateway.url}/api/v1/requests/${id}/wait?timeoutSeconds=${timeoutSeconds}`, { headers: { authorization: `Bearer ${http.token}` }, signal: controller.signal });
    // A dropped poll's answer rejects (AbortError): nobody need read it.
    answer.catch(() => undefined);
    return { answer, drop: () => controller.abort() };
  }

  describe('long polls', () => {
    it('share one poll per request, answer every waiter when the request ends, and a dropped waiter leaves at once', async () => {
      const waits = gateway.app.get(RequestWaits);
      const id = await submit();
      const waiters = Array.from({ length: 8 }, () => openWait(q.automation, id));
      const dropped = openWait(q.automation, id);
      await until(() => waits.stats.waiters === 9);
      expect(waits.stats.requests).toBe(1);
      expect(waits.cap.size).toBe(9);
      dropped.drop();
      await expect(dropped.answer).rejects.toThrow();
      await until(() => waits.stats.waiters === 8 && waits.cap.size === 8, 1000);
      expect((await q.automation.post(`/api/v1/requests/${id}/cancel`)).status).toBe(200);
      for (const waiter of waiters) {
        const res = await waiter.answer;
        expect(res.status).toBe(200);
        expect(((await res.json()) as { status: string }).status).toBe('cancelled');
      }
      await until(() => waits.stats.requests === 0 && waits.cap.size === 0);
    });

    it(`refuses the ${WAITS_PER_PRINCIPAL + 1}th open long poll of one caller with 429 and Retry-After; another caller is not refused; a dropped one frees its place`, async () => {
      const waits = gateway.app.get(RequestWaits);
      const id = await submit();
      const open = Array.from({ length: WAITS_PER_PRINCIPAL }, () => openWait(q.automation, id));
      await until(() => waits.cap.size === WAITS_PER_PRINCIPAL);
      const refused = await q.automation.get(`/api/v1/requests/${id}/wait?timeoutSeconds=5`);
      expectProblem(refused, 429, 'TOO_MANY_OPEN');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // Someone else may still wait (the requester's reviewers, say).
      const other = await q.lead.get(`/api/v1/requests/${id}/wait?timeoutSeconds=0`);
      expect(other.status).toBe(200);
      open[0]!.drop();
      await until(() => waits.cap.size === WAITS_PER_PRINCIPAL - 1, 1000);
      expect((await q.automation.get(`/api/v1/requests/${id}/wait?timeoutSeconds=0`)).status).toBe(200);
      for (const w of open.slice(1)) w.drop();
      await until(() => waits.cap.size === 0);
      await q.automation.post(`/api/v1/requests/${id}/cancel`);
    });
  });

  describe('callers that drop their long polls', () => {
    it(`hold back a caller's next poll once it has dropped ${DROPS_PER_KEY.burst}, until its budget refills; others are not held`, async () => {
      const waits = gateway.app.get(RequestWaits);
      const dropper = (await createUser(q.admin, 'poll-dropper', ['auditor'])).http;
      const id = await submit();
      /** How long a poll of `http` took to be answered (timeoutSeconds=0: at once, unless held back). */
      const timedPoll = async (http: Http) => {
        const started = Date.now();
        expect((await http.get(`/api/v1/requests/${id}/wait?timeoutSeconds=0`)).status).toBe(200);
        return Date.now() - started;
      };
      // Open and drop, a round of WAITS_PER_PRINCIPAL at a time, until the caller is held back.
      let dropped = 0;
      let held = 0;
      while (held < 150 && dropped < 4 * DROPS_PER_KEY.burst) {
        const round = Array.from({ length: WAITS_PER_PRINCIPAL }, () => openWait(dropper, id));
        await until(() => waits.cap.size === WAITS_PER_PRINCIPAL, 5000).catch(() => undefined);
        for (const w of round) w.drop();
        dropped += round.length;
        await until(() => waits.cap.size === 0);
        held = await timedPoll(dropper);
      }
      expect(dropped).toBeGreaterThanOrEqual(DROPS_PER_KEY.burst);
      expect(held).toBeGreaterThanOrEqual(150);
      // Someone who waits for their answers is not held back for it.
      expect(await timedPoll(q.lead)).toBeLessThan(150);
      await q.automation.post(`/api/v1/requests/${id}/cancel`);
    }, 60_000);
  });

  describe('event streams', () => {
    it(`refuses the ${STREAMS_PER_PRINCIPAL + 1}th open stream of one caller with 429 and Retry-After; closing one frees its place`, async () => {
      const streams = gateway.app.get(EventsController);
      const open = await Promise.all(
        Array.from({ length: STREAMS_PER_PRINCIPAL }, async () => {
          const controller = new AbortController();
          const res = await fetch(`${gateway.url}/api/v1/events`, { headers: { authorization: `Bearer ${q.serviceToken}` }, signal: controller.signal });
          expect(res.status).toBe(200);
          return controller;
        }),
      );
      const refused = await q.automation.get('/api/v1/events');
      expectProblem(refused, 429, 'TOO_MANY_OPEN');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      open[0]!.abort();
      await until(() => streams.cap.size === STREAMS_PER_PRINCIPAL - 1, 1000);
      const again = new AbortController();
      expect((await fetch(`${gateway.url}/api/v1/events`, { headers: { authorization: `Bearer ${q.serviceToken}` }, signal: again.signal })).status).toBe(200);
      again.abort();
      for (const c of open.slice(1)) c.abort();
      await until(() => streams.cap.size === 0);
    });
  });

  describe('logins', () => {
    const login = (username: string, password: string, from: string) => anonymous.post('/api/v1/auth/login', { username, password }, { 'x-forwarded-for': from });

    it(`refuses a network (/24) after ${NETWORK_LOGIN_FAILURES_ALLOWED} failures with many usernames, even a right password; another network may go on`, async () => {
      // Ten real failures from ten addresses of one /24, under ten usernames; the rest of
      // the budget spent beforehand in the store (a hundred argon2 hashes take minutes here).
      for (let i = 0; i < 10; i++) expectProblem(await login(`sprayed-${i}`, 'Summer2026!', `198.51.100.${i + 1}`), 401);
      const [counted] = await gateway.ctx.dataSource.query(`SELECT points FROM login_failures WHERE key = 'login_net:198.51.100.0/24'`);
      expect(counted.points).toBe(10);
      await gateway.ctx.dataSource.query(`UPDATE login_failures SET points = $1 WHERE key = 'login_net:198.51.100.0/24'`, [NETWORK_LOGIN_FAILURES_ALLOWED - 1]);
      expectProblem(await login('sprayed-last', 'Summer2026!', '198.51.100.200'), 401);
      const refused = await login('q-op1', 'q-op1-password-for-tests', '198.51.100.251');
      expectProblem(refused, 429, 'TOO_MANY_ATTEMPTS');
      expect(refused.body).toMatchObject({ scope: 'network', detail: expect.stringMatching(/from this network/) });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await login('q-op1', 'q-op1-password-for-tests', '198.51.101.1')).status).toBe(200);
    });

    it('refuses every login once the gateway-wide budget is spent (counted in the database, for every replica)', async () => {
      await gateway.ctx.dataSource.query(`INSERT INTO login_failures (key, points, expire) VALUES ('login_all:all', $1, $2) ON CONFLICT (key) DO UPDATE SET points = $1, expire = $2`, [
        GLOBAL_LOGIN_FAILURES_ALLOWED,
        Date.now() + 30_000,
      ]);
      const refused = await login('q-op2', 'q-op2-password-for-tests', '192.0.2.1');
      expectProblem(refused, 429, 'TOO_MANY_ATTEMPTS');
      expect(refused.body.scope).toBe('global');
      await gateway.ctx.dataSource.query(`DELETE FROM login_failures WHERE key = 'login_all:all'`);
      expect((await login('q-op2', 'q-op2-password-for-tests', '192.0.2.1')).status).toBe(200);
    });

    it(`handles at most ${LOGINS_AT_ONCE} logins at once with ${LOGIN_QUEUE} waiting (and ${PASSWORD_HASHES_AT_ONCE} hash at once), and answers the rest 503 with Retry-After after ${REFUSAL_HOLD_MS} ms, never 500`, async () => {
      const started = Date.now();
      const burst = await Promise.all(
        Array.from({ length: LOGIN_QUEUE + 40 }, async (_, i) => {
          const res = await login(`burst-${i}`, 'not-a-password', `10.${i}.0.1`);
          return Object.assign(res, { tookMs: Date.now() - started });
        }),
      );
      const statuses = burst.map((r) => r.status);
      expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
      const busy = burst.filter((r) => r.status === 503);
      expect(busy.length).toBeGreaterThan(0);
      // Held, so that a sprayer retrying at once sends a few a second, not thousands.
      expect(Math.min(...busy.map((r) => r.tookMs))).toBeGreaterThanOrEqual(REFUSAL_HOLD_MS - 5);
      expectProblem(busy[0]!, 503, 'BUSY');
      expect(Number(busy[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
      // Refused before any handler, with the headers every answer has.
      expect(busy[0]!.headers.get('x-request-id')).toBe(busy[0]!.body.correlationId);
      expect(busy[0]!.headers.get('cache-control')).toBe('no-store');
      expect(busy[0]!.headers.get('x-frame-options')).toBe('DENY');
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(LOGIN_QUEUE);
      expect(PASSWORD_HASH_QUEUE).toBeGreaterThanOrEqual(LOGINS_AT_ONCE);
      // Every hash queued was computed one after another: on a busy machine, that takes a while.
    }, 300_000);

    it('audits failures for unknown usernames as one counted entry per window, and writes what was typed nowhere; a known username is audited by name', async () => {
      const tally = gateway.app.get(UnknownLoginTally);
      await tally.flush();
      const typed = ['Tr0ub4dor&3-correct-horse', 'hunter2-not-a-user', 'ZqX9!pw-in-the-name-field'];
      for (const [i, name] of typed.entries()) expectProblem(await login(name, 'whatever-password', `172.16.${i}.9`), 401);
      expectProblem(await login('q-op3', 'a-wrong-password', '172.16.9.9'), 401);
      await tally.flush();
      const auditor = (await createUser(q.admin, 'tally-auditor', ['auditor'])).http;
      const entries = (await auditor.get('/api/v1/audit?limit=1000')).body.entries as { action: string; subject: string; data: any }[];
      const tallies = entries.filter((e) => e.action === 'auth.login_failed_unknown');
      expect(tallies.at(-1)).toMatchObject({ subject: 'username:unknown', data: { count: typed.length, networks: typed.length } });
      expect(entries.filter((e) => e.action === 'auth.login_failed' && e.subject === 'username:q-op3')).toHaveLength(1);
      const everything = (await dumpAllTables(gateway.ctx.dataSource)) + gateway.logs.join('\n');
      for (const name of typed) expect(everything).not.toContain(name);
    });
  });
});
