import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Http } from './support/http.js';
import { approve, decisionBody, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { startReplica, type Replica } from './support/replica.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { createTestDatabase } from './support/test-gateway.js';

const realServer = testDatabaseKinds().includes('postgres');

/** Several gateway processes on one PostgreSQL: the deployment the embedded database cannot be. */
(realServer ? describe : describe.skip)('replicas on one PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let replicas: Replica[] = [];
  let q: QuorumSetup;
  let db: pg.Client;
  let upstream: Server;
  let upstreamHits = 0;
  let upstreamDelayMs = 0;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    env['QG_DATABASE_URL'] = database.databaseUrl ?? '';
    env['QG_MASTER_KEY'] = randomBytes(32).toString('base64');
    env['QG_OPERATION_TIMEOUT_SECONDS'] = '3';
    replicas = await Promise.all([0, 1, 2].map(() => startReplica(env)));
    db = new pg.Client({ connectionString: database.databaseUrl });
    await db.connect();
    q = await setUpSigningQuorum(new Http(replicas[0]!.url), { n: 3, k: 2, prefix: 'rep' });
    upstream = createServer((req, res) => {
      upstreamHits++;
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('rotated'), upstreamDelayMs).unref();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  }, 120000);

  afterAll(async () => {
    for (const r of replicas) r.process.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await db?.end();
    upstream?.close();
    await database?.drop();
  });

  const via = (replica: Replica, http: Http) => new Http(replica.url).as(http.token);

  async function count(action: string, requestId: string): Promise<number> {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = $1 AND subject = $2`, [action, `request:${requestId}`]);
    return rows[0].n;
  }

  it('runs each request exactly once under 50 concurrent approvals spread over three replicas', async () => {
    const requests = await Promise.all(Array.from({ length: 5 }, () => q.automation.post('/api/v1/requests', signRequestBody(q.credential.name)).then((r) => r.body)));
    const bodies = await Promise.all(requests.map((request) => Promise.all(q.operators.map((op) => decisionBody(op, request, 'approve')))));
    const attempts = Array.from({ length: 50 }, (_, i) => {
      const r = i % requests.length;
      const o = Math.floor(i / requests.length) % q.operators.length;
      const replica = replicas[i % replicas.length]!;
      return via(replica, q.operators[o]!.http).post(`/api/v1/requests/${requests[r].id}/approvals`, bodies[r]![o]);
    });
    const statuses = (await Promise.all(attempts)).map((res) => res.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    for (const request of requests) {
      const done = await via(replicas[2]!, q.automation).get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=30`);
      expect(done.body.status).toBe('succeeded');
      expect(await count('request.executing', request.id)).toBe(1);
      expect(await count('request.succeeded', request.id)).toBe(1);
    }
  }, 90000);

  it('fans request changes out to server-sent event streams on every replica', async () => {
    const listening = replicas.map(async (replica) => {
      const res = await fetch(`${replica.url}/api/v1/events`, { headers: { authorization: `Bearer ${q.operators[0]!.http.token}` } });
      const reader = res.body!.getReader();
      let seen = '';
      return {
        until: async (text: string) => {
          const deadline = Date.now() + 15000;
          while (!seen.includes(text)) {
            if (Date.now() > deadline) throw new Error(`no "${text}" on ${replica.url}`);
            const { value, done } = await reader.read();
            if (done) throw new Error('stream ended');
            seen += Buffer.from(value).toString();
          }
          await reader.cancel();
        },
      };
    });
    const streams = await Promise.all(listening);
    const request = (await via(replicas[1]!, q.automation).post('/api/v1/requests', signRequestBody(q.credential.name))).body;
    await Promise.all(streams.map((s) => s.until(request.id)));
  }, 30000);

  it('ends a request failed/interrupted when its replica is killed mid-execution, and never runs it twice', async () => {
    const credential = await q.lead.post('/api/v1/credentials', {
      name: 'rep-admin-api',
      kind: 'http-token',
      config: { baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` },
      secret: 'upstream-token-for-tests',
      custodians: q.operators.map((o) => o.id),
      threshold: 2,
    });
    expect(credential.status).toBe(201);
    expect((await q.lead.post('/api/v1/policies', { name: 'rep-admin-api', credentialId: credential.body.id, operations: [{ kind: 'http' }], approvals: { min: 2 } })).status).toBe(201);
    upstreamDelayMs = 60_000;
    upstreamHits = 0;
    const request = (await q.automation.post('/api/v1/requests', { credential: 'rep-admin-api', operation: { kind: 'http', params: { method: 'POST', path: '/rotate' } }, reason: 'rotate' })).body;
    const victim = replicas[1]!;
    expect((await approve(q.operators[0]!, request)).status).toBe(201);
    expect((await via(victim, q.operators[1]!.http).post(`/api/v1/requests/${request.id}/approvals`, await decisionBody(q.operators[1]!, request, 'approve'))).status).toBe(201);
    await waitFor(() => upstreamHits === 1);
    victim.process.kill('SIGKILL');
    await victim.exited;

    const done = await via(replicas[0]!, q.automation).get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=30`);
    expect(done.body.status).toBe('failed');
    expect(done.body.result).toMatchObject({ error: 'interrupted' });
    await new Promise((r) => setTimeout(r, 3000));
    expect(upstreamHits).toBe(1);
    expect(await count('request.executing', request.id)).toBe(1);
    replicas[1] = await startReplica(env);
  }, 90000);

  it('drains a running operation on SIGTERM and stops accepting new requests', async () => {
    upstreamDelayMs = 1500;
    upstreamHits = 0;
    const request = (await q.automation.post('/api/v1/requests', { credential: 'rep-admin-api', operation: { kind: 'http', params: { method: 'POST', path: '/rotate' } }, reason: 'rotate again' })).body;
    const leaving = replicas[2]!;
    expect((await approve(q.operators[0]!, request)).status).toBe(201);
    expect((await via(leaving, q.operators[2]!.http).post(`/api/v1/requests/${request.id}/approvals`, await decisionBody(q.operators[2]!, request, 'approve'))).status).toBe(201);
    await waitFor(() => upstreamHits === 1);
    leaving.process.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    await expect(fetch(`${leaving.url}/healthz`)).rejects.toThrow();
    expect(await leaving.exited).toBe(0);
    const done = await via(replicas[0]!, q.automation).get(`/api/v1/requests/${request.id}`);
    expect(done.body.status).toBe('succeeded');
    expect(done.body.result).toMatchObject({ status: 200, body: 'rotated' });
    replicas[2] = await startReplica(env);
  }, 60000);
});

async function waitFor(check: () => boolean, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
