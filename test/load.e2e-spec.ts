import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
 * runs as its own process (the compiled one), the attackers as another
 * (support/hostile-load.mjs), and this process is the one operator timing approvals:
 * an operator elsewhere does not share an event loop with the attackers.
 *
 * Runs only with QG_LOAD_TEST=1 (about 100 s per database after `npm run
 * build:server`; the held refusals stretch the spray): it measures the machine as much
 * as the gateway. On a quiet 2-core machine it meets the 2x bar on both databases; with
 * other work on the machine it may not (docs/adr/0025 gives the figures).
 * QG_LOAD_NODE_ARGS passes flags to the gateway, e.g. `--cpu-prof` to see where the load goes.
 */
const DROPPED_POLLS = 5000;
const SPRAY_ATTEMPTS = 10000;
const SAMPLES = 24;
/** An operator does not approve back to back: samples are this far apart, idle and under load alike. */
const SAMPLE_GAP_MS = 50;
const SPRAYERS = 64;
const POLLERS = 16;
const HOSTILE_LOAD = fileURLToPath(new URL('./support/hostile-load.mjs', import.meta.url));

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

interface LoadPlan {
  url: string;
  waitUrl: string;
  tokens: string[];
  polls: number;
  pollers: number;
  attempts: number;
  sprayers: number;
}
interface LoadOutcome {
  polls: number;
  attempts: number;
  statuses: Record<string, number>;
  pollStatuses: Record<string, number>;
}

/** Runs the attackers in their own process (support/hostile-load.mjs) until they are done. */
function hostileLoad(plan: LoadPlan): Promise<LoadOutcome> {
  const child = spawn(process.execPath, [HOSTILE_LOAD, JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadOutcome) : reject(new Error(`hostile load exited with ${code}`))));
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
    replica = await startReplica(env, (process.env['QG_LOAD_NODE_ARGS'] ?? '').split(' ').filter(Boolean));
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
    for (const item of items.slice(3, 3 + SAMPLES)) {
      await pause(SAMPLE_GAP_MS);
      idle.push(await approveTimed(item));
    }

    const pending = (await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name))).body.id as string;
    const waitUrl = `${replica.url}/api/v1/requests/${pending}/wait?timeoutSeconds=30`;
    const tokens = [q.serviceToken, ...q.operators.map((o) => o.http.token!)];
    let loadDone = false;
    const load = hostileLoad({ url: replica.url, waitUrl, tokens, polls: DROPPED_POLLS, pollers: POLLERS, attempts: SPRAY_ATTEMPTS, sprayers: SPRAYERS }).finally(
      () => (loadDone = true),
    );

    await pause(500);
    const loaded: number[] = [];
    for (const item of items.slice(3 + SAMPLES)) {
      if (loadDone) break;
      loaded.push(await approveTimed(item));
      await pause(SAMPLE_GAP_MS);
    }
    const { polls, attempts, statuses, pollStatuses } = await load;

    const [idleMedian, loadedMedian] = [median(idle), median(loaded)];
    process.stderr.write(
      `[${kind}] approval median idle ${idleMedian.toFixed(1)} ms, under load ${loadedMedian.toFixed(1)} ms (${loaded.length} samples); ` +
        `spray answers ${JSON.stringify(statuses)}; polls ${polls}, answered before their drop ${JSON.stringify(pollStatuses)}\n`,
    );
    expect(loaded.length).toBeGreaterThanOrEqual(SAMPLES / 2);
    expect(attempts).toBeGreaterThanOrEqual(SPRAY_ATTEMPTS);
    expect(polls).toBeGreaterThanOrEqual(DROPPED_POLLS);
    // No 5xx but the hash queue's 503 (BUSY), which says when to come back.
    expect(Object.keys(statuses).every((s) => s === '401' || s === '429' || s === '503')).toBe(true);
    expect(loadedMedian).toBeLessThanOrEqual(2 * idleMedian);
    // The gateway still answers and holds no dropped poll.
    expect((await new KeepAliveHttp(replica.url).get('/readyz')).status).toBe(200);
  }, 600_000);
});
