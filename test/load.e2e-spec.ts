import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KeepAliveHttp } from '../bench/keep-alive-http.js';
import { decisionBody, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { startReplica, type Replica } from './support/replica.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { createTestDatabase } from './support/test-gateway.js';

/**
 * Issue 15 "Done when": 5,000 opened-and-dropped long polls and a 10,000-attempt
 * password spray from many usernames (and many client addresses) leave the approval
 * path's one-client latency within 2x of idle. Loopback only, bounded: the gateway
 * runs as its own process (the compiled one), this process plays the clients.
 *
 * Runs only with QG_LOAD_TEST=1 (about 20 s per database after `npm run
 * build:server`): it measures the machine as much as the gateway. On a quiet 2-core
 * machine it meets the 2x bar on PostgreSQL and mostly on the embedded database;
 * with other work on the machine it does not (docs/adr/0024 gives the figures).
 */
const DROPPED_POLLS = 5000;
const SPRAY_ATTEMPTS = 10000;
const SAMPLES = 12;
const SPRAYERS = 64;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Opens a long poll on its own connection and drops it after `afterMs`. */
function openAndDrop(url: string, token: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${token}` }, agent: false });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve());
      res.on('error', () => resolve());
    });
    req.on('close', () => resolve());
    setTimeout(() => req.destroy(), afterMs);
  });
}

const suite = process.env['QG_LOAD_TEST'] === '1' ? describe.each(testDatabaseKinds()) : describe.skip.each(testDatabaseKinds());

suite('approval latency under hostile load (%s database)', (kind) => {
  let replica: Replica;
  let q: QuorumSetup;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'qg-load-'));
    const database = kind === 'postgres' ? await createTestDatabase('postgres') : undefined;
    const env: Record<string, string> = { QG_DATA_DIR: dataDir, QG_MASTER_KEY: randomBytes(32).toString('base64'), QG_TRUST_PROXY: 'loopback' };
    if (database?.databaseUrl !== undefined) env['QG_DATABASE_URL'] = database.databaseUrl;
    replica = await startReplica(env);
    cleanup = async () => {
      replica.process.kill('SIGTERM');
      await replica.exited;
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    };
    q = await setUpSigningQuorum(new KeepAliveHttp(replica.url), { n: 3, k: 2, prefix: 'load' });
  }, 120_000);
  afterAll(() => cleanup());

  /** Requests with their first approval prepared (the operator's device work done beforehand). */
  async function prepared(count: number): Promise<{ id: string; body: unknown }[]> {
    const out: { id: string; body: unknown }[] = [];
    for (let i = 0; i < count; i++) {
      const submitted = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name, randomBytes(16).toString('base64url')));
      expect(submitted.status).toBe(201);
      out.push({ id: submitted.body.id, body: await decisionBody(q.operators[0]!, submitted.body, 'approve') });
    }
    return out;
  }

  /** One operator posting one approval: the approval path as one client sees it. */
  async function approveTimed(item: { id: string; body: unknown }): Promise<number> {
    const t0 = performance.now();
    const res = await q.operators[0]!.http.post(`/api/v1/requests/${item.id}/approvals`, item.body);
    const elapsed = performance.now() - t0;
    expect(res.status).toBe(201);
    return elapsed;
  }

  it(`keeps one operator's approval within 2x of idle while ${DROPPED_POLLS} long polls are opened and dropped and ${SPRAY_ATTEMPTS} logins are sprayed`, async () => {
    const items = await prepared(2 * SAMPLES + 3);
    for (const item of items.slice(0, 3)) await approveTimed(item);
    const idle: number[] = [];
    for (const item of items.slice(3, 3 + SAMPLES)) idle.push(await approveTimed(item));

    const pending = (await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name))).body.id as string;
    const waitUrl = `${replica.url}/api/v1/requests/${pending}/wait?timeoutSeconds=30`;
    const statuses = new Map<number, number>();
    let polls = 0;
    let attempts = 0;
    let loadDone = false;
    const pollers = Array.from({ length: 16 }, async (_, w) => {
      while (polls < DROPPED_POLLS) {
        polls++;
        // Spread over the three operators and the automation: capped callers get 429 at once.
        const token = [q.serviceToken, q.operators[w % 3]!.http.token!][w % 2]!;
        await openAndDrop(waitUrl, token, 5 + (polls % 20));
      }
    });
    const spray = new KeepAliveHttp(replica.url);
    // More sprayers than the hash queue holds: past it, attempts are answered 503 at once.
    const sprayers = Array.from({ length: SPRAYERS }, async () => {
      while (attempts < SPRAY_ATTEMPTS) {
        const i = attempts++;
        const res = await spray.post('/api/v1/auth/login', { username: `user${i}`, password: `Winter${i}!` }, { 'x-forwarded-for': `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}` });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    });
    const load = Promise.all([...pollers, ...sprayers]).then(() => (loadDone = true));

    await new Promise((r) => setTimeout(r, 1000));
    const loaded: number[] = [];
    for (const item of items.slice(3 + SAMPLES)) {
      if (loadDone) break;
      loaded.push(await approveTimed(item));
    }
    await load;

    const [idleMedian, loadedMedian] = [median(idle), median(loaded)];
    process.stderr.write(
      `[${kind}] approval median idle ${idleMedian.toFixed(1)} ms, under load ${loadedMedian.toFixed(1)} ms (${loaded.length} samples); ` +
        `spray answers ${JSON.stringify(Object.fromEntries(statuses))}; polls ${polls}\n`,
    );
    expect(loaded.length).toBeGreaterThanOrEqual(SAMPLES / 2);
    expect(attempts).toBeGreaterThanOrEqual(SPRAY_ATTEMPTS);
    expect(polls).toBeGreaterThanOrEqual(DROPPED_POLLS);
    // No 5xx but the hash queue's 503 (BUSY), which says when to come back.
    expect([...statuses.keys()].every((s) => s === 401 || s === 429 || s === 503)).toBe(true);
    expect(loadedMedian).toBeLessThanOrEqual(2 * idleMedian);
    // The gateway still answers and holds no dropped poll.
    expect((await new KeepAliveHttp(replica.url).get('/readyz')).status).toBe(200);
  }, 600_000);
});
