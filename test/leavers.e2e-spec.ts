import { Http } from './support/http.js';
import { approve, createOperator, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/** Spec §7: whoever leaves takes their pending requests with them, so that nobody approves on behalf of someone gone. */
describe.each(testDatabaseKinds())('leavers (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    q = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'lv' });
  });
  afterAll(() => gateway.close());

  const status = async (id: string) => (await q.admin.get(`/api/v1/requests/${id}`)).body.status;
  async function cancellations(id: string): Promise<unknown[]> {
    const rows: { data: unknown }[] = await gateway.ctx.dataSource.query(`SELECT data FROM audit_log WHERE action = 'request.cancelled' AND subject = $1`, [`request:${id}`]);
    return rows.map((r) => r.data);
  }

  it("disabling a user cancels their pending requests, and only those; no decision on one is taken any more (409)", async () => {
    const leaver = await createOperator(q.admin, 'lv-leaver', ['requester']);
    const pending = (await leaver.http.post('/api/v1/requests', signRequestBody(q.credential.name))).body;
    const other = (await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name))).body;
    expect((await q.admin.request('PATCH', `/api/v1/users/${leaver.id}`, { disabled: true })).status).toBe(200);
    expect(await status(pending.id)).toBe('cancelled');
    expect(await status(other.id)).toBe('pending');
    expect(await cancellations(pending.id)).toEqual([{ reason: 'requester_disabled', requestKeyDestroyed: true }]);
    expect((await q.operators[0]!.http.get(`/api/v1/requests/${pending.id}/share`)).status).toBe(409);
    expect((await approve(q.operators[0]!, pending, 'reject')).status).toBe(409);
    // Enabling again brings nothing back.
    expect((await q.admin.request('PATCH', `/api/v1/users/${leaver.id}`, { disabled: false })).status).toBe(200);
    expect(await status(pending.id)).toBe('cancelled');
  });

  it("revoking a service account cancels its pending requests; the request it had approved already runs on", async () => {
    const account = await q.admin.post('/api/v1/service-accounts', { name: 'lv-bot', roles: ['requester'] });
    expect(account.status).toBe(201);
    const bot = q.admin.as(account.body.token);
    const pending = (await bot.post('/api/v1/requests', signRequestBody(q.credential.name))).body;
    const approved = (await bot.post('/api/v1/requests', signRequestBody(q.credential.name))).body;
    expect((await approve(q.operators[0]!, approved)).status).toBe(201);
    expect((await approve(q.operators[1]!, approved)).status).toBe(201);
    expect((await q.admin.request('DELETE', `/api/v1/service-accounts/${account.body.id}`)).status).toBe(204);
    expect(await status(pending.id)).toBe('cancelled');
    expect(await cancellations(pending.id)).toEqual([{ reason: 'requester_revoked', requestKeyDestroyed: true }]);
    expect(await cancellations(approved.id)).toEqual([]);
  });
});
