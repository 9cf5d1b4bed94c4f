import { randomBytes } from 'node:crypto';
import { Http } from './support/http.js';
import { decisionBody, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { HttpReceiver, waitUntil } from './support/receivers.js';
import { startReplica, type Replica } from './support/replica.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { createTestDatabase } from './support/test-gateway.js';

const realServer = testDatabaseKinds().includes('postgres');
const REQUESTS = 50;

/** Issue 18 item 10: three gateway processes on one PostgreSQL deliver each event once per channel. */
(realServer ? describe : describe.skip)('notifications across replicas', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let replicas: Replica[] = [];
  let q: QuorumSetup;
  let receiver: HttpReceiver;

  beforeAll(async () => {
    receiver = await new HttpReceiver().start();
    database = await createTestDatabase('postgres');
    const env = { QG_DATABASE_URL: database.databaseUrl ?? '', QG_MASTER_KEY: randomBytes(32).toString('base64'), QG_PUBLIC_URL: 'https://qg.example.test' };
    replicas = await Promise.all([0, 1, 2].map(() => startReplica(env)));
    q = await setUpSigningQuorum(new Http(replicas[0]!.url), { n: 3, k: 2, prefix: 'nrep' });
  }, 120000);

  afterAll(async () => {
    for (const r of replicas) r.process.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await receiver?.stop();
    await database?.drop();
  });

  const via = (replica: Replica, http: Http) => new Http(replica.url).as(http.token);

  it(`sends each event of ${REQUESTS} requests exactly once, signed, whichever replica made the change`, async () => {
    const created = await q.admin.post('/api/v1/notification-channels', { name: 'rep-hook', kind: 'webhook', config: { url: `${receiver.url}/rep` } });
    expect(created.status).toBe(201);
    const requests = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) => via(replicas[i % 3]!, q.automation).post('/api/v1/requests', signRequestBody(q.credential.name)).then((r) => r.body)),
    );
    for (const [i, request] of requests.entries()) {
      for (const o of [0, 1]) {
        const op = q.operators[o]!;
        const res = await via(replicas[(i + o + 1) % 3]!, op.http).post(`/api/v1/requests/${request.id}/approvals`, await decisionBody(op, request, 'approve'));
        expect(res.status).toBe(201);
      }
    }
    for (const request of requests) {
      expect((await via(replicas[2]!, q.automation).get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=30`)).body.status).toBe('succeeded');
    }
    const expected = REQUESTS * 3;
    await waitUntil(() => receiver.on('/rep').length >= expected, `${expected} webhooks`, 60000);
    // Time for a duplicate to show up, if any replica were to send one.
    await new Promise((r) => setTimeout(r, 4000));

    const events = receiver.verified('/rep', created.body.signingSecret);
    expect(events).toHaveLength(expected);
    expect(new Set(events.map((e) => e.id)).size).toBe(expected);
    for (const request of requests) {
      expect(events.filter((e) => e.data.request.id === request.id).map((e) => e.type).sort()).toEqual(['request.approved', 'request.pending', 'request.succeeded']);
    }
    const deliveries = (await q.admin.get(`/api/v1/notification-channels/${created.body.id}/deliveries?limit=1000`)).body.deliveries;
    expect(deliveries).toHaveLength(expected);
    expect(deliveries.every((d: any) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
  }, 240000);
});
