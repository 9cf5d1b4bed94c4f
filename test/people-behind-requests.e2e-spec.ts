import { Http } from './support/http.js';
import { approve, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/** Issue 15 item 7: a request is judged by the people behind it, as they were when it was submitted and voted on. */
describe.each(testDatabaseKinds())('people behind requests (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    q = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'pb' });
  });
  afterAll(() => gateway.close());

  const approvableIds = async (http: Http) => (await http.get('/api/v1/requests?approvable=true')).body.requests.map((r: { id: string }) => r.id);

  it("the owner of a service account counts as its requester: they cannot approve what their bot asks for, and their inbox does not offer it", async () => {
    const [owner, other] = [q.operators[0]!, q.operators[1]!];
    const created = await q.admin.post('/api/v1/service-accounts', { name: 'pb-owned-bot', roles: ['requester'], ownerId: owner.id });
    expect(created.status).toBe(201);
    expect(created.body.ownerId).toBe(owner.id);
    const bot = q.admin.as(created.body.token);
    const request = (await bot.post('/api/v1/requests', signRequestBody(q.credential.name))).body;

    expect(await approvableIds(owner.http)).not.toContain(request.id);
    expect(await approvableIds(other.http)).toContain(request.id);
    const refused = await approve(owner, request);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('APPROVAL_SELF_FORBIDDEN');
    expect(refused.body.detail).toContain('owner');
    expect((await q.admin.get(`/api/v1/requests/${request.id}`)).body.approvals).toEqual([]);

    // The two other custodians still make the quorum.
    expect((await approve(other, request)).status).toBe(201);
    expect((await approve(q.operators[2]!, request)).status).toBe(201);
    expect((await bot.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=30`)).body.status).toBe('succeeded');
  });

  it('a service account gets an owner: the creating admin by default, else an enabled user named by id (400 otherwise, nothing created)', async () => {
    const byDefault = await q.admin.post('/api/v1/service-accounts', { name: 'pb-default-owner', roles: ['requester'] });
    const me = (await q.admin.get('/api/v1/me')).body;
    expect(byDefault.body.ownerId).toBe(me.id);
    for (const ownerId of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await q.admin.post('/api/v1/service-accounts', { name: 'pb-no-owner', roles: ['requester'], ownerId });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const listed = (await q.admin.get('/api/v1/service-accounts')).body.serviceAccounts.map((a: { name: string }) => a.name);
    expect(listed).not.toContain('pb-no-owner');
  });

  it("a voter's groups count as they were when they voted: moving them out of a group afterwards does not undo their vote for it", async () => {
    const [sre, plain] = [q.operators[0]!, q.operators[1]!];
    expect((await q.admin.request('PATCH', `/api/v1/users/${sre.id}`, { groups: ['sre'] })).status).toBe(200);
    const policy = await q.lead.post('/api/v1/policies', {
      name: 'pb-needs-an-sre',
      credentialId: q.credential.id,
      operations: [{ kind: 'sign', constraints: { format: 'jws' } }],
      approvals: { min: 2, groups: [{ group: 'sre', min: 1 }] },
    });
    expect(policy.status).toBe(201);
    const body = signRequestBody(q.credential.name);
    const request = (await q.automation.post('/api/v1/requests', { ...body, operation: { kind: 'sign', params: { ...body.operation.params, format: 'jws' } } })).body;
    expect(request.policyId).toBe(policy.body.id);

    expect((await approve(sre, request)).status).toBe(201);
    expect((await q.admin.request('PATCH', `/api/v1/users/${sre.id}`, { groups: [] })).status).toBe(200);
    const second = await approve(plain, request);
    expect(second.status).toBe(201);
    expect(second.body.request.status).not.toBe('pending');
    expect((await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=30`)).body.status).toBe('succeeded');
  });
});
