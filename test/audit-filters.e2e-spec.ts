// GET /api/v1/audit for auditors: newest first, filtered by actor, action (or a family),
// subject, time range and a search text, paged with cursors in both orders; every bad
// filter is a 400 problem with a code that changes nothing.
import { Http } from './support/http.js';
import { createUser } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './support/test-gateway.js';

interface Entry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  data: Record<string, unknown>;
}

describe.each(testDatabaseKinds())('audit log filters (%s database)', (kind) => {
  let gateway: TestGateway;
  let admin: Http;
  let adminId: string;
  let auditor: Http;
  let other: Http;
  let otherId: string;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    adminId = (await admin.get('/api/v1/me')).body.id;
    const auditorAccount = await admin.post('/api/v1/service-accounts', { name: 'audit-reader', roles: ['auditor'] });
    auditor = admin.as(auditorAccount.body.token);
    // A second actor: another admin creates an account too.
    const otherAdmin = await createUser(admin, 'other-admin', ['admin']);
    other = otherAdmin.http;
    otherId = otherAdmin.id;
    for (const name of ['ci-one', 'ci-two', 'ci-three']) expect((await admin.post('/api/v1/service-accounts', { name, roles: ['requester'] })).status).toBe(201);
    expect((await other.post('/api/v1/service-accounts', { name: 'made-by-other', roles: ['requester'] })).status).toBe(201);
  }, 60_000);
  afterAll(() => gateway?.close());

  async function list(query: Record<string, string>): Promise<{ entries: Entry[]; nextCursor: string | null }> {
    const res = await auditor.get(`/api/v1/audit?${new URLSearchParams(query).toString()}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  async function all(query: Record<string, string>): Promise<Entry[]> {
    const out: Entry[] = [];
    let cursor: string | null = null;
    do {
      const page: { entries: Entry[]; nextCursor: string | null } = await list({ ...query, limit: '2', ...(cursor !== null ? { cursor } : {}) });
      out.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return out;
  }

  it('lists newest first with order=desc, and pages backwards with the cursor it gives out', async () => {
    const asc = await all({});
    const desc = await all({ order: 'desc' });
    expect(asc.length).toBeGreaterThan(5);
    expect(desc.map((e) => e.seq)).toEqual(asc.map((e) => e.seq).reverse());
    // The default stays oldest first, as the CLI and spec §7 expect.
    expect((await list({ limit: '1' })).entries[0]?.seq).toBe(1);
  });

  it('filters by actor, action, a family of actions, subject, and combines them', async () => {
    const byOther = await all({ actor: `user:${otherId}` });
    expect(byOther.map((e) => e.action)).toEqual(['auth.login', 'service_account.created']);
    expect(byOther[1]?.data).toMatchObject({ name: 'made-by-other' });

    const created = await all({ action: 'service_account.created', actor: `user:${adminId}` });
    expect(created.length).toBe(4);
    expect(created.every((e) => e.action === 'service_account.created' && e.actor === `user:${adminId}`)).toBe(true);

    const family = await all({ action: 'auth.*' });
    expect(family.length).toBeGreaterThan(0);
    expect(family.every((e) => e.action.startsWith('auth.'))).toBe(true);

    const subject = `user:${otherId}`;
    const about = await all({ subject });
    expect(about.length).toBeGreaterThan(0);
    expect(about.every((e) => e.subject === subject)).toBe(true);
  });

  it('filters by a time range (from inclusive, to exclusive) in any RFC 3339 zone', async () => {
    const entries = await all({});
    const middle = entries[Math.floor(entries.length / 2)]!;
    const from = await all({ from: middle.at });
    expect(from.length).toBeGreaterThan(0);
    expect(from.every((e) => e.at >= middle.at)).toBe(true);
    const to = await all({ to: middle.at });
    expect(to.every((e) => e.at < middle.at)).toBe(true);
    expect(from.length + to.length).toBe(entries.length);
    // The same instant written with an offset selects the same entries.
    const d = new Date(middle.at);
    const offset = new Date(d.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    expect((await all({ from: offset })).map((e) => e.seq)).toEqual(from.map((e) => e.seq));
    expect(await all({ from: '2999-01-01T00:00:00Z' })).toEqual([]);
  });

  it('searches actor, action, subject and data case-insensitively; % and _ are literal', async () => {
    const found = await all({ q: 'CI-TWO' });
    expect(found.map((e) => e.action)).toEqual(['service_account.created']);
    expect(found[0]?.data).toMatchObject({ name: 'ci-two' });
    expect(await all({ q: '%' })).toEqual([]);
    expect(await all({ q: 'ci_one' })).toEqual([]);
    expect((await all({ q: otherId })).length).toBeGreaterThan(0);
  });

  it('answers 400 with a code, changing nothing, for every bad filter', async () => {
    const before = await all({});
    const desc = await list({ order: 'desc', limit: '1' });
    const asc = await list({ limit: '1' });
    const bad: Record<string, string>[] = [
      { order: 'newest' },
      { actor: 'user:' + 'x'.repeat(100) },
      { actor: "user:1' OR 1=1 --" },
      { action: 'request.nonsense' },
      { action: 'nonsense.*' },
      { action: '*' },
      { subject: 'a b' },
      { subject: 'x'.repeat(201) },
      { from: 'yesterday' },
      { from: '2026-12-01' },
      { from: '2026-12-01T00:00:00' },
      { to: '2026-13-01T00:00:00Z' },
      { from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' },
      { q: '' },
      { q: 'x'.repeat(201) },
      // A newest-first cursor is not an oldest-first one, and the other way round.
      { cursor: desc.nextCursor! },
      { order: 'desc', cursor: asc.nextCursor! },
    ];
    for (const query of bad) {
      const res = await auditor.get(`/api/v1/audit?${new URLSearchParams(query).toString()}`);
      expect({ query, status: res.status, code: res.body?.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(await all({})).toEqual(before);
  });

  it('stays for auditors only, filters included', async () => {
    expect((await other.get(`/api/v1/audit?actor=user:${adminId}`)).status).toBe(403);
    expect((await new Http(gateway.url).get('/api/v1/audit?order=desc')).status).toBe(401);
  });

  it('declares the filters in the OpenAPI document', async () => {
    const doc = (await new Http(gateway.url).get('/api/docs-json')).body;
    const names = (doc.paths['/api/v1/audit'].get.parameters as { name: string }[]).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['order', 'actor', 'action', 'subject', 'from', 'to', 'q', 'cursor', 'limit']));
  });
});
