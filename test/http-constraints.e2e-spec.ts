import { Http } from './support/http.js';
import { setUpSigningQuorum, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

// Issue 15 item 1, through HTTP: an http policy's constraints admit what they say and
// nothing else. A policy non-match is 403 NO_MATCHING_POLICY (with the reason when the
// policy refuses it by itself); a path the gateway never sends is 400; a malformed
// constraint is 400 POLICY_INVALID. Nothing refused is stored.

describe.each(testDatabaseKinds())('http constraints end to end (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  let credentialId: string;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    q = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'hc' });
    const credential = await q.lead.post('/api/v1/credentials', {
      name: 'hc-admin-api',
      kind: 'http-token',
      config: { baseUrl: 'https://admin-api.example.internal/v1' },
      secret: 'hc-admin-api-token-5f1e9c0b7a3d',
      custodians: q.operators.map((o) => o.id),
      threshold: 2,
    });
    expect(credential.status).toBe(201);
    credentialId = credential.body.id;
    const policy = await q.lead.post('/api/v1/policies', {
      name: 'hc-admin-api',
      credentialId: credential.body.id,
      operations: [
        { kind: 'http', constraints: { method: 'POST', path: '/admin/rotate/*' } },
        { kind: 'http', constraints: { method: 'GET', path: '/reports/**', query: { from: '20??-??-??', format: 'csv' } } },
        { kind: 'http', constraints: { method: 'POST', path: '/tenants/*/jobs', headers: { 'X-Tenant': 'acme-*' }, body: { action: 'reindex', scope: 'index-*' } } },
        { kind: 'http', constraints: { method: 'POST', path: '/legacy/items/*', headers: { 'X-HTTP-Method-Override': 'PATCH' } } },
      ],
      approvals: { min: 2 },
    });
    expect(policy.status).toBe(201);
  });
  afterAll(() => gateway.close());

  const requestCount = async (): Promise<number> => (await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM requests'))[0].n;
  const submit = (params: Record<string, unknown>) =>
    q.automation.post('/api/v1/requests', { credential: 'hc-admin-api', operation: { kind: 'http', params }, reason: 'http constraints e2e' });

  async function refused(params: Record<string, unknown>, status: number, detail: RegExp): Promise<void> {
    const before = await requestCount();
    const res = await submit(params);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body.detail).toMatch(detail);
    expect(await requestCount()).toBe(before);
  }

  it.each<[string, Record<string, unknown>]>([
    ['one segment under *', { method: 'POST', path: '/admin/rotate/db' }],
    ['segments under ** and a query its rule names', { method: 'GET', path: '/reports/2026/q4?from=2026-10-01&format=csv' }],
    ['headers and body fields as the rule lists them', { method: 'POST', path: '/tenants/acme/jobs', headers: { 'x-tenant': 'acme-eu' }, body: { action: 'reindex', scope: 'index-orders' } }],
    ['an override header its rule names', { method: 'POST', path: '/legacy/items/7', headers: { 'X-HTTP-Method-Override': 'PATCH' } }],
  ])('admits %s (201)', async (_name, params) => {
    const res = await submit(params);
    expect(res.status).toBe(201);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a second segment under *', { method: 'POST', path: '/admin/rotate/db/users' }, /no policy of credential "hc-admin-api"/],
    ['a query under a rule that names none', { method: 'POST', path: '/admin/rotate/db?all=1' }, /a query is admitted only by an http rule whose `query` constraint names every parameter/],
    ['a query parameter the rule does not name', { method: 'GET', path: '/reports/2026?from=2026-10-01&format=csv&limit=all' }, /`query` constraint/],
    ['a _method parameter', { method: 'POST', path: '/admin/rotate/db?_method=DELETE' }, /`query` constraint/],
    ['a method-override header', { method: 'POST', path: '/admin/rotate/db', headers: { 'X-HTTP-Method-Override': 'DELETE' } }, /override headers/],
    ['X-Method-Override', { method: 'POST', path: '/admin/rotate/db', headers: { 'x-method-override': 'DELETE' } }, /override headers/],
    ['an override value the rule does not name', { method: 'POST', path: '/legacy/items/7', headers: { 'X-HTTP-Method-Override': 'DELETE' } }, /no policy/],
    ['a header value outside its glob', { method: 'POST', path: '/tenants/acme/jobs', headers: { 'X-Tenant': 'globex' }, body: { action: 'reindex', scope: 'index-a' } }, /no policy/],
    ['an extra body field', { method: 'POST', path: '/tenants/acme/jobs', headers: { 'X-Tenant': 'acme-eu' }, body: { action: 'reindex', scope: 'index-a', all: true } }, /no policy/],
    ['a missing body field', { method: 'POST', path: '/tenants/acme/jobs', headers: { 'X-Tenant': 'acme-eu' }, body: { action: 'reindex' } }, /no policy/],
    ['a string body under a body constraint', { method: 'POST', path: '/tenants/acme/jobs', headers: { 'X-Tenant': 'acme-eu' }, body: '{"action":"reindex","scope":"index-a"}' }, /no policy/],
  ])('refuses %s (403)', async (_name, params, detail) => {
    await refused(params, 403, detail);
  });

  it.each<[string, string, RegExp]>([
    ['a ";" in the path', '/admin/rotate/db;x=1', /must not contain ";"/],
    ['"..;" (a ".." that Tomcat-style servers read through ";")', '/admin/rotate/..;/users', /";"|"\.\."/],
    ['a segment starting with ".."', '/admin/rotate/..db', /segment starting with "\.\."/],
  ])('refuses %s (400 before any policy)', async (_name, path, detail) => {
    await refused({ method: 'POST', path }, 400, detail);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['headers as a string', { headers: 'X-Tenant: acme' }, /constraints\.headers must be an object/],
    ['a body field glob that is not a string', { body: { action: 1 } }, /constraints\.body\.action must be a glob string/],
    ['** inside a path segment', { path: '/files/**.txt' }, /"\*\*" must be a whole path segment/],
  ])('refuses a policy with %s (400 POLICY_INVALID)', async (_name, constraints, detail) => {
    const res = await q.lead.post('/api/v1/policies', { name: `hc-bad-${Math.random().toString(36).slice(2, 8)}`, credentialId, operations: [{ kind: 'http', constraints }], approvals: { min: 2 } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('POLICY_INVALID');
    expect(res.body.detail).toMatch(detail);
  });
});
