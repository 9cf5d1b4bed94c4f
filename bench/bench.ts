/**
 * `npm run bench`: drives a real gateway (embedded PostgreSQL, or the server at
 * QG_BENCH_DATABASE_URL) with concurrent automation clients submitting `sign`
 * requests and operators approving them, and measures against the bare limits an
 * approval cannot beat here: the cryptography alone and the database alone.
 */
import 'reflect-metadata';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import type { Http } from '../test/support/http.js';
import { KeepAliveHttp } from './keep-alive-http.js';
import { decisionBody, setUpSigningQuorum, signRequestBody, type QuorumSetup } from '../test/support/quorum.js';
import { startReplica, type Replica } from '../test/support/replica.js';
import { benchCrypto } from './crypto-bench.js';

const CLIENTS = Number(process.env['QG_BENCH_CLIENTS'] ?? 32);
const DURATION_MS = Number(process.env['QG_BENCH_SECONDS'] ?? 20) * 1000;
/** Each request is a 2-of-3 `sign`: two approvals. */
const APPROVALS_PER_REQUEST = 2;
/** The fewest HTTP exchanges a request needs: submit, and per approval fetch the share and post the decision, and get the result. */
const MIN_HTTP_EXCHANGES_PER_REQUEST = 2 + 2 * APPROVALS_PER_REQUEST;

interface Sample {
  submitMs: number;
  lastApprovalToSucceededMs: number;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const ms = (v: number) => `${v.toFixed(1)} ms`;

async function oneRequest(q: QuorumSetup, approvers: [number, number]): Promise<Sample> {
  const t0 = performance.now();
  const submitted = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name, randomBytes(32).toString('base64url')));
  const submitMs = performance.now() - t0;
  if (submitted.status !== 201) throw new Error(`submit: ${submitted.status} ${submitted.text}`);
  const request = submitted.body;
  const [a, b] = approvers.map((i) => q.operators[i]!);
  const bodies = await Promise.all([decisionBody(a!, request, 'approve'), decisionBody(b!, request, 'approve')]);
  const first = await a!.http.post(`/api/v1/requests/${request.id}/approvals`, bodies[0]);
  if (first.status !== 201) throw new Error(`approve: ${first.status} ${first.text}`);
  const waiting = q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=30`);
  // Awaited below; if the second approval fails first, this one must not become an unhandled rejection.
  waiting.catch(() => undefined);
  const tLast = performance.now();
  const second = await b!.http.post(`/api/v1/requests/${request.id}/approvals`, bodies[1]);
  if (second.status !== 201) throw new Error(`approve: ${second.status} ${second.text}`);
  const done = await waiting;
  if (done.body.status !== 'succeeded') throw new Error(`request ended ${done.body.status}`);
  return { submitMs, lastApprovalToSucceededMs: performance.now() - tLast };
}

/** CPU seconds so far: of a process (Linux /proc, clock ticks of 10 ms) and of the whole machine. */
function processCpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** This process's CPU seconds including the children it has waited for (pgbench). */
function ownCpuSecondsWithChildren(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return fields.slice(11, 15).reduce((sum, t) => sum + Number(t), 0) / 100;
}

function machineCpuSeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  return ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + Number(t)), 0) / 100;
}

/** The same people and tokens, talking to another replica. */
function onReplica(q: QuorumSetup, url: string): QuorumSetup {
  return {
    ...q,
    automation: new KeepAliveHttp(url, q.serviceToken),
    operators: q.operators.map((o) => ({ ...o, http: new KeepAliveHttp(url, o.http.token) })),
  };
}

/** Client i talks to replica (and requester account) i mod n, as behind a round-robin proxy. */
async function drive(replicas: QuorumSetup[], clients: number, durationMs: number): Promise<{ samples: Sample[]; seconds: number; approvals: number }> {
  const samples: Sample[] = [];
  const deadline = performance.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      const q = replicas[client % replicas.length]!;
      let n = 0;
      while (performance.now() < deadline) {
        const first = (client + n) % q.operators.length;
        samples.push(await oneRequest(q, [first, (first + 1) % q.operators.length]));
        n++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { samples, seconds, approvals: samples.length * APPROVALS_PER_REQUEST };
}

async function getRate(http: Http, path: string, seconds = 3): Promise<number> {
  let count = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < deadline) {
        const res = await http.get(path);
        if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
        count++;
      }
    }),
  );
  return count / seconds;
}

/** pgbench's approval-shaped transaction: its rate, and per transaction the server's CPU and pgbench's own (the least a client spends on it). */
interface PgbenchRate {
  perSecond: number;
  serverCpuMs: number;
  clientCpuMs: number;
}

/**
 * The approval's database shape alone (lock row, insert vote, chain audit, update), through pgbench:
 * its rate, and the CPU the database server spent per transaction (the machine's, less pgbench's own).
 */
async function pgbenchApprovalRate(databaseUrl: string): Promise<PgbenchRate | undefined> {
  try {
    execFileSync('pgbench', ['--version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`CREATE TABLE IF NOT EXISTS bench_requests (id int PRIMARY KEY, status text, n int);
    CREATE TABLE IF NOT EXISTS bench_votes (id bigserial PRIMARY KEY, request_id int, statement text);
    CREATE TABLE IF NOT EXISTS bench_audit_head (id boolean PRIMARY KEY, seq bigint, hash text);
    CREATE TABLE IF NOT EXISTS bench_audit (seq bigint PRIMARY KEY, data jsonb, hash text);
    TRUNCATE bench_requests, bench_votes, bench_audit, bench_audit_head;
    INSERT INTO bench_requests SELECT g, 'pending', 0 FROM generate_series(1, 1000) g;
    INSERT INTO bench_audit_head VALUES (true, 0, repeat('0', 64));`);
  await client.end();
  const dir = await mkdtemp(join(tmpdir(), 'qg-pgbench-'));
  const script = join(dir, 'approval.sql');
  await writeFile(
    script,
    `\\set r random(1, 1000)
BEGIN;
SELECT status FROM bench_requests WHERE id = :r FOR UPDATE;
SELECT count(*) FROM bench_votes WHERE request_id = :r;
INSERT INTO bench_votes (request_id, statement) VALUES (:r, repeat('x', 400));
SELECT seq, hash FROM bench_audit_head WHERE id FOR UPDATE;
INSERT INTO bench_audit SELECT seq + 1, '{"a":1}', md5(random()::text) FROM bench_audit_head WHERE id;
UPDATE bench_audit_head SET seq = seq + 1 WHERE id;
UPDATE bench_requests SET n = n + 1 WHERE id = :r;
END;
`,
  );
  try {
    const before = { machine: machineCpuSeconds(), own: ownCpuSecondsWithChildren() };
    const out = execFileSync('pgbench', ['-n', '-f', script, '-c', '8', '-j', '2', '-T', '8', databaseUrl], { encoding: 'utf8' });
    const clientCpuSeconds = ownCpuSecondsWithChildren() - before.own;
    const serverCpuSeconds = machineCpuSeconds() - before.machine - clientCpuSeconds;
    const tps = /tps = ([\d.]+)/.exec(out);
    const processed = /number of transactions actually processed: (\d+)/.exec(out);
    if (!tps || !processed) return undefined;
    const n = Number(processed[1]);
    return { perSecond: Number(tps[1]), serverCpuMs: (serverCpuSeconds * 1000) / n, clientCpuMs: (clientCpuSeconds * 1000) / n };
  } finally {
    await rm(dir, { recursive: true, force: true });
    const cleanup = new pg.Client({ connectionString: databaseUrl });
    await cleanup.connect();
    await cleanup.query('DROP TABLE bench_requests, bench_votes, bench_audit_head, bench_audit');
    await cleanup.end();
  }
}

/**
 * What one HTTP exchange costs the whole machine (client, kernel, server) with no
 * framework and no work behind it: a bare node:http server answering a small JSON
 * body to the bench's own client, 16 at a time.
 */
async function bareHttpExchangeCpuMs(seconds = 3): Promise<{ machineMs: number; serverMs: number }> {
  const server = spawn(
    process.execPath,
    ['-e', `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.setHeader('content-type', 'application/json'); s.end('{"ok":true}'); }); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const port = await new Promise<string>((resolve) => server.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
    const client = new KeepAliveHttp(`http://127.0.0.1:${port}`);
    const before = { machine: machineCpuSeconds(), server: processCpuSeconds(server.pid) };
    let count = 0;
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (performance.now() < deadline) {
          await client.post('/', { statement: 'x'.repeat(400) });
          count++;
        }
      }),
    );
    return { machineMs: ((machineCpuSeconds() - before.machine) * 1000) / count, serverMs: ((processCpuSeconds(server.pid) - before.server) * 1000) / count };
  } finally {
    server.kill();
  }
}

/** A process's resident memory in MiB, read from /proc (Linux). */
function rssMiB(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  } catch {
    return NaN;
  }
}

/**
 * What the embedded database itself holds in memory: a Node process that opens only
 * the bench's PGlite data directory and reads every table, beside a bare Node process.
 */
async function pgliteAloneMiB(dataDir: string): Promise<{ pglite: number; bareNode: number }> {
  const run = async (code: string): Promise<number> => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise((resolve) => child.on('exit', resolve));
    return Number(out.trim());
  };
  const rss = `Number(/VmRSS:\\s+(\\d+)/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'))[1]) / 1024`;
  const pglite = await run(
    `import { PGlite } from '@electric-sql/pglite'; const db = new PGlite(${JSON.stringify(join(dataDir, 'pg'))}); await db.waitReady;` +
      ` for (const { t } of (await db.query("SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = 'public'")).rows) await db.query('SELECT * FROM ' + t);` +
      ` console.log(${rss}); await db.close();`,
  );
  const bareNode = await run(`console.log(${rss});`);
  return { pglite, bareNode };
}

/** Set by the embedded run: what PGlite alone takes, from the bench's data directory. */
let pgliteMemory: { pglite: number; bareNode: number } | undefined;

/** The gateways run as their own processes (the compiled `npm start` one); this process plays the clients. */
async function benchDatabase(label: string, databaseUrl: string | undefined, replicaCount = 1, clients = CLIENTS, durationMs = DURATION_MS): Promise<Record<string, string | number>> {
  process.stderr.write(`\n[${label}] starting ${replicaCount} gateway process(es)…\n`);
  const dataDir = await mkdtemp(join(tmpdir(), 'qg-bench-'));
  const env: Record<string, string> = { QG_DATA_DIR: dataDir, QG_MASTER_KEY: randomBytes(32).toString('base64'), QG_LOG_LEVEL: 'warn' };
  if (databaseUrl !== undefined) env['QG_DATABASE_URL'] = databaseUrl;
  // QG_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the gateway process under load.
  const nodeArgs = (process.env['QG_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const gateways: Replica[] = [];
  const peakRss: number[] = [];
  try {
    for (let i = 0; i < replicaCount; i++) gateways.push(await startReplica(env, nodeArgs));
    const q = await setUpSigningQuorum(new KeepAliveHttp(gateways[0]!.url), { n: 3, k: 2, prefix: 'bench' });
    // A caller holds at most 16 long polls on one gateway (load-caps.ts): one requester account per 8 clients.
    const tokens = [q.serviceToken];
    while (tokens.length < Math.ceil(clients / 8)) {
      const account = await q.admin.post('/api/v1/service-accounts', { name: `bench-ci-${tokens.length}`, roles: ['requester'] });
      if (account.status !== 201) throw new Error(`service account: ${account.status} ${account.text}`);
      tokens.push(account.body.token);
    }
    const replicas = gateways.flatMap((g) => tokens.map((serviceToken) => onReplica({ ...q, serviceToken }, g.url)));
    process.stderr.write(`[${label}] warming up…\n`);
    for (const replica of replicas) await oneRequest(replica, [0, 1]);
    process.stderr.write(`[${label}] ${clients} client(s) for ${durationMs / 1000} s…\n`);
    const rssBeforeLoad = gateways.map((g) => rssMiB(g.process.pid));
    const gatewaysCpu = () => gateways.reduce((sum, g) => sum + processCpuSeconds(g.process.pid), 0);
    const cpuBefore = { gateways: gatewaysCpu(), clients: process.cpuUsage(), machine: machineCpuSeconds() };
    // Resident memory under load: the highest of samples every 250 ms, per gateway.
    const sampler = setInterval(() => gateways.forEach((g, i) => (peakRss[i] = Math.max(peakRss[i] ?? 0, rssMiB(g.process.pid)))), 250);
    const { samples, seconds, approvals } = await drive(replicas, clients, durationMs)
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\ngateway output:\n${gateways.map((g) => g.output().slice(-4000)).join('\n---\n')}`);
      })
      .finally(() => clearInterval(sampler));
    const gatewayCores = (gatewaysCpu() - cpuBefore.gateways) / seconds;
    const clientUsage = process.cpuUsage(cpuBefore.clients);
    const clientCores = (clientUsage.user + clientUsage.system) / 1e6 / seconds;
    const machineCores = (machineCpuSeconds() - cpuBefore.machine) / seconds;
    const getRps = await getRate(q.automation, `/api/v1/policies`);
    const submit = samples.map((s) => s.submitMs);
    // CPU per request moves less than rates when other tenants slow this machine down.
    const perRequest = (cores: number) => ((cores * seconds * 1000) / samples.length).toFixed(1);
    const toSucceeded = samples.map((s) => s.lastApprovalToSucceededMs);
    return {
      database: label,
      replicas: replicaCount,
      clients,
      'requests completed': samples.length,
      'approvals/s': Number((approvals / seconds).toFixed(1)),
      'submit p50': ms(percentile(submit, 50)),
      'submit p95': ms(percentile(submit, 95)),
      'submit p99': ms(percentile(submit, 99)),
      'last approval→succeeded p50': ms(percentile(toSucceeded, 50)),
      'last approval→succeeded p95': ms(percentile(toSucceeded, 95)),
      'last approval→succeeded p99': ms(percentile(toSucceeded, 99)),
      'GET requests/s (one replica)': Number(getRps.toFixed(0)),
      'gateway RSS before load (each)': rssBeforeLoad.map((m) => `${m.toFixed(0)} MiB`).join(' + '),
      'gateway RSS peak under load (each)': peakRss.map((m) => `${m.toFixed(0)} MiB`).join(' + '),
      'CPU cores: gateways': Number(gatewayCores.toFixed(2)),
      'CPU cores: bench clients': Number(clientCores.toFixed(2)),
      'CPU cores: rest (PostgreSQL…)': Number((machineCores - gatewayCores - clientCores).toFixed(2)),
      'CPU ms per request: gateways / clients / rest': [gatewayCores, clientCores, machineCores - gatewayCores - clientCores].map(perRequest).join(' / '),
      'gateway CPU ms per request': Number(perRequest(gatewayCores)),
      'peak RSS MiB': Math.max(...peakRss),
    };
  } finally {
    for (const gateway of gateways) {
      gateway.process.kill('SIGTERM');
      await gateway.exited;
    }
    if (databaseUrl === undefined) pgliteMemory = await pgliteAloneMiB(dataDir).catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function freshBenchDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `qg_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Runs `work` on a database of its own on the server, dropped afterwards. */
async function onFreshDatabase(adminUrl: string, work: (url: string) => Promise<void>): Promise<void> {
  const db = await freshBenchDatabase(adminUrl);
  try {
    await work(db.url);
  } finally {
    await db.drop();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  process.stderr.write(`quorumgate bench on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n`);
  const crypto = await benchCrypto(APPROVALS_PER_REQUEST);
  console.log('\nCryptography alone (one process):');
  console.table(crypto.table);

  // QG_BENCH_EMBEDDED=0 measures only the PostgreSQL server; QG_BENCH_ROWS=one,two,single picks its rows (all by default).
  const picked = (row: string) => (process.env['QG_BENCH_ROWS'] ?? 'one,two,single').split(',').includes(row);
  const rows = process.env['QG_BENCH_EMBEDDED'] === '0' ? [] : [await benchDatabase('embedded', undefined)];
  const adminUrl = process.env['QG_BENCH_DATABASE_URL'];
  let pgbench: PgbenchRate | undefined;
  if (adminUrl !== undefined && adminUrl !== '') {
    if (picked('one')) {
      await onFreshDatabase(adminUrl, async (url) => {
        rows.push(await benchDatabase('postgres', url));
        pgbench = await pgbenchApprovalRate(url);
      });
    }
    // Two replicas on one database (a fresh one): what scaling out buys on this machine.
    if (picked('two')) await onFreshDatabase(adminUrl, async (url) => void rows.push(await benchDatabase('postgres', url, 2)));
    // One client: the latency of the request path itself, with no queue in front of the cores.
    if (picked('single')) await onFreshDatabase(adminUrl, async (url) => void rows.push(await benchDatabase('postgres', url, 1, 1, Math.min(DURATION_MS, 10000))));
  }
  console.log('\nEnd to end (sign requests, 2-of-3 approvals):');
  console.table(rows);

  const http = await bareHttpExchangeCpuMs();
  const cryptoLimit = crypto.approvalsPerSecond;
  console.log(`\nBare limits: approval cryptography alone ${cryptoLimit.toFixed(0)} per CPU second` + (pgbench !== undefined ? `; approval-shaped transaction in PostgreSQL (pgbench) ${pgbench.perSecond.toFixed(0)}/s, ${pgbench.serverCpuMs.toFixed(2)} ms of server CPU and ${pgbench.clientCpuMs.toFixed(2)} ms of pgbench's own each` : ''));
  const { clientsMs, gatewayMs: gatewayCryptoMs, combineMs, openMs } = crypto.required;
  console.log(
    `  the cryptography alone of one request (${APPROVALS_PER_REQUEST} approvals), measured above: approvers ${clientsMs.toFixed(1)} ms (open own share, re-seal, sign);` +
      ` gateway ${gatewayCryptoMs.toFixed(1)} ms (request key, verify each statement, open each share once, combine ${combineMs.toFixed(2)} ms, sign)`,
  );
  console.log(`  one HTTP exchange with a bare node:http server (no framework, no work): ${http.serverMs.toFixed(2)} ms of the server's CPU, ${http.machineMs.toFixed(2)} ms of the machine's`);

  // Issue 20: the gateway against its own floor, both measured in this run.
  const byShape = (replicas: number, clients: number) => rows.find((r) => r.database === 'postgres' && r.replicas === replicas && r.clients === clients);
  const one = byShape(1, CLIENTS);
  const two = byShape(2, CLIENTS);
  const single = byShape(1, 1);
  const embedded = rows.find((r) => r.database === 'embedded');
  console.log('\nThe gateway against its own floor (issue 20):');
  if (one !== undefined && pgbench !== undefined) {
    // What any implementation must spend in the gateway per request: its cryptography, the client side of
    // its approval transactions as pgbench (C, libpq) spends it, and the server side of bare HTTP exchanges.
    const dbMs = APPROVALS_PER_REQUEST * pgbench.clientCpuMs;
    const httpMs = MIN_HTTP_EXCHANGES_PER_REQUEST * http.serverMs;
    const floorMs = gatewayCryptoMs + dbMs + httpMs;
    const gatewayMs = Number(one['gateway CPU ms per request']);
    console.log(`gateway efficiency: ${(gatewayMs / floorMs).toFixed(2)} × floor (${gatewayMs.toFixed(1)} / ${floorMs.toFixed(1)} ms per request)`);
    console.log(
      `  floor = cryptography ${gatewayCryptoMs.toFixed(1)} + ${APPROVALS_PER_REQUEST} approval transactions at pgbench's client cost ${dbMs.toFixed(1)} + ${MIN_HTTP_EXCHANGES_PER_REQUEST} bare HTTP exchanges ${httpMs.toFixed(1)} ms;` +
        ` the combine is ${((combineMs / floorMs) * 100).toFixed(0)} % of it; opening each share a second time at approval would add ${(APPROVALS_PER_REQUEST * openMs).toFixed(1)} ms (${(((APPROVALS_PER_REQUEST * openMs) / floorMs) * 100).toFixed(0)} %)`,
    );
  }
  if (single !== undefined) console.log(`one client: last approval→succeeded p99 ${parseFloat(String(single['last approval→succeeded p99'])).toFixed(1)} ms (p50 ${parseFloat(String(single['last approval→succeeded p50'])).toFixed(1)} ms)`);
  if (one !== undefined) {
    const pglite = embedded !== undefined && pgliteMemory !== undefined ? `; embedded ${Number(embedded['peak RSS MiB']).toFixed(0)} MiB, of which PGlite itself ~${(pgliteMemory.pglite - pgliteMemory.bareNode).toFixed(0)} MiB (a process holding only the database: ${pgliteMemory.pglite.toFixed(0)} MiB, a bare Node process ${pgliteMemory.bareNode.toFixed(0)} MiB)` : '';
    console.log(`gateway RSS under ${CLIENTS} clients (peak): PostgreSQL ${Number(one['peak RSS MiB']).toFixed(0)} MiB${pglite}`);
  }
  if (one !== undefined && two !== undefined) {
    const a = Number(one['gateway CPU ms per request']);
    const b = Number(two['gateway CPU ms per request']);
    console.log(`two replicas: ${b.toFixed(1)} ms of gateway CPU per request against ${a.toFixed(1)} ms with one (${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(0)} %)`);
  }
  console.log(`\nbench finished in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
