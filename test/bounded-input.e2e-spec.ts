import { Http } from './support/http.js';
import { createUser, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/** Issue 15 item 4: each kind of bad input the generative test sends, named once, and every list bounded. */
describe.each(testDatabaseKinds())('bad input and bounded lists (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  let auditor: Http;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    q = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'bi' });
    auditor = (await createUser(q.admin, 'bi-auditor', ['auditor'])).http;
  });
  afterAll(() => gateway.close());

  const raw = (method: string, path: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }, token = q.admin.token) =>
    fetch(gateway.url + path, { method, headers: { authorization: `Bearer ${token}`, ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) }).then(async (res) => ({
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: JSON.parse(await res.text()) as { code?: string; detail?: string },
    }));
  const user = (extra: string) => `{"username":"bi-new","password":"a-long-enough-password","displayName":"New","roles":[]${extra}}`;
  const usernames = async () => (await q.admin.get('/api/v1/users')).body.users.map((u: { username: string }) => u.username);

  it.each<[string, string | Buffer, number, string]>([
    ['a NUL in a string', user(',"groups":["a\\u0000b"]'), 400, 'BODY_MALFORMED'],
    ['a lone surrogate as an escape', user('').replace('"New"', '"New\\ud800"'), 400, 'BODY_MALFORMED'],
    ['a lone surrogate as raw bytes (CESU-8)', Buffer.concat([Buffer.from(user('').replace('"New"', '"New')), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"')]), 400, 'BODY_MALFORMED'],
    ['1e400', user(',"groups":1e400'), 400, 'BODY_MALFORMED'],
    ['10,000 levels of nesting', user(`,"groups":${'['.repeat(10_000)}${']'.repeat(10_000)}`), 400, 'BODY_MALFORMED'],
    ['a __proto__ member, which class-transformer drops unread', user(',"__proto__":{"roles":["admin"]}'), 400, 'BODY_MALFORMED'],
    ['a constructor member', user(',"constructor":1'), 400, 'BODY_MALFORMED'],
    ['more groups than a user may have', user(`,"groups":${JSON.stringify(Array.from({ length: 65 }, (_, i) => `g${i}`))}`), 400, 'VALIDATION_FAILED'],
    ['a huge array', user(`,"groups":[${Array(50_000).fill('"g"').join(',')}]`), 400, 'VALIDATION_FAILED'],
    ['a body over 1 MiB', user(`,"pad":"${'x'.repeat(1_100_000)}"`), 413, 'BODY_TOO_LARGE'],
  ])('refuses %s with problem+json, and stores nothing', async (_name, body, status, code) => {
    const res = await raw('POST', '/api/v1/users', body);
    expect([res.status, res.body.code]).toEqual([status, code]);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(await usernames()).not.toContain('bi-new');
  });

  it('refuses a body that is not JSON (415) and a body sent where none is read (400)', async () => {
    expect((await raw('POST', '/api/v1/users', user(''), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await raw('POST', '/api/v1/users', user(''), { 'content-type': 'application/json; charset=latin1' })).status).toBe(415);
    const checkpoint = await raw('POST', '/api/v1/audit/checkpoints', '{"seq":1}', { 'content-type': 'application/json' }, auditor.token);
    expect([checkpoint.status, checkpoint.body.code]).toEqual([400, 'BODY_NOT_EXPECTED']);
    expect((await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM audit_checkpoints'))[0].n).toBe(0);
  });

  it('refuses NUL, over-long and undecodable path parameters and out-of-range query values with 400, where they used to reach the database', async () => {
    for (const path of ['/api/v1/credentials/a%00b', `/api/v1/credentials/${'a'.repeat(300)}`, '/api/v1/credentials/%ED%A0%80', '/api/v1/policies/%00', '/api/v1/audit?afterSeq=99999999999999999999', '/api/v1/requests?status=%00']) {
      const res = await q.admin.get(path);
      expect([path, res.status, typeof res.body.code]).toEqual([path, 400, 'string']);
    }
    const login = await new Http(gateway.url).post('/api/v1/auth/login', { username: 'admin\u0000', password: 'x' });
    expect([login.status, login.body.code]).toEqual([400, 'BODY_MALFORMED']);
    expect(await auditor.get('/api/v1/audit/verify')).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('pages requests newest first with an opaque cursor, each page filtered like the first', async () => {
    const submitted: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await q.automation.post('/api/v1/requests', { ...signRequestBody(q.credential.id), reason: `page test ${i}` });
      expect(res.status).toBe(201);
      submitted.unshift(res.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: { requests: { id: string }[]; nextCursor: string | null } } = await q.automation.get(`/api/v1/requests?limit=3${cursor !== null ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.requests.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.requests.map((r) => r.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect([seen, pages]).toEqual([submitted, 3]);
    // Without limit or cursor, the answer is as before, plus nextCursor.
    expect((await q.automation.get('/api/v1/requests')).body).toMatchObject({ requests: submitted.map((id) => ({ id })), nextCursor: null });
    // Another caller following the same cursor sees only their own.
    const first = (await q.automation.get('/api/v1/requests?limit=3')).body.nextCursor as string;
    const stranger = (await createUser(q.admin, 'bi-stranger', ['requester'])).http;
    expect((await stranger.get(`/api/v1/requests?limit=3&cursor=${first}`)).body).toEqual({ requests: [], nextCursor: null });
    for (const bad of ['x', 'not-base64!', Buffer.from('{"l":"a","seq":1}').toString('base64url'), Buffer.from('{"l":"r","id":"1 OR 1=1"}').toString('base64url'), 'a'.repeat(201)]) {
      const res = await q.automation.get(`/api/v1/requests?cursor=${bad}`);
      expect([bad, res.status, res.body.code]).toEqual([bad, 400, 'VALIDATION_FAILED']);
    }
    expect((await q.automation.get('/api/v1/requests?limit=501')).status).toBe(400);
  });

  it('pages the audit log by cursor or by afterSeq, the same entries either way', async () => {
    const bySeq: number[] = [];
    for (let afterSeq = 0; ; ) {
      const page = (await auditor.get(`/api/v1/audit?afterSeq=${afterSeq}&limit=4`)).body as { entries: { seq: number }[]; nextCursor: string | null };
      bySeq.push(...page.entries.map((e) => e.seq));
      if (page.nextCursor === null) break;
      afterSeq = page.entries[page.entries.length - 1]!.seq;
    }
    const byCursor: number[] = [];
    for (let cursor: string | null = null; ; ) {
      const page = (await auditor.get(`/api/v1/audit?limit=4${cursor !== null ? `&cursor=${cursor}` : ''}`)).body as { entries: { seq: number }[]; nextCursor: string | null };
      byCursor.push(...page.entries.map((e) => e.seq));
      cursor = page.nextCursor;
      if (cursor === null) break;
    }
    const total = (await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM audit_log'))[0].n as number;
    expect(bySeq).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(byCursor).toEqual(bySeq);
    const cursor = (await auditor.get('/api/v1/audit?limit=1')).body.nextCursor as string;
    expect((await auditor.get(`/api/v1/audit?afterSeq=1&cursor=${cursor}`)).status).toBe(400);
    expect((await auditor.get('/api/v1/audit?limit=1001')).status).toBe(400);
    const requestsCursor = (await q.automation.get('/api/v1/requests?limit=1')).body.nextCursor as string;
    expect((await auditor.get(`/api/v1/audit?cursor=${requestsCursor}`)).status).toBe(400);
  });

  it('bounds every array in the policy DTO', async () => {
    const base = { name: 'bi-bounded', credentialId: q.credential.id, approvals: { min: 2 } };
    const tooMany = [
      { ...base, operations: Array.from({ length: 33 }, () => ({ kind: 'sign' })) },
      { ...base, operations: [{ kind: 'sign' }], approvals: { min: 2, groups: Array.from({ length: 33 }, (_, i) => ({ group: `g${i}`, min: 1 })) } },
      { ...base, operations: [{ kind: 'sign' }], requesters: { users: Array.from({ length: 257 }, () => '00000000-0000-4000-8000-000000000000') } },
    ];
    for (const body of tooMany) {
      const res = await q.lead.post('/api/v1/policies', body);
      expect([res.status, res.body.detail]).toEqual([400, expect.stringMatching(/must contain no more than/)]);
    }
  });
});
