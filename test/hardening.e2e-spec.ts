import { API_CSP, API_DOCS_CSP } from '../apps/gateway/src/http/security-headers.js';
import { Http, type HttpResult } from './support/http.js';
import { createUser } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './support/test-gateway.js';

/** Issue 15 item 6: browser and session hardening, through HTTP. */
describe.each(testDatabaseKinds())('browser and session hardening (%s database)', (kind) => {
  let gateway: TestGateway;
  let anonymous: Http;
  let admin: Http;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    anonymous = new Http(gateway.url);
    admin = await anonymous.login('admin', ADMIN_PASSWORD);
  });
  afterAll(() => gateway.close());

  function expectProblem(res: HttpResult, status: number): void {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, detail: expect.any(String) });
  }

  /** A browser session: the cookie the web UI's login gets. */
  async function webSession(username: string, password: string): Promise<Record<string, string>> {
    const res = await anonymous.post('/api/v1/auth/login', { username, password }, { 'x-qg-session': 'cookie' });
    expect(res.status).toBe(200);
    expect(res.body.accessToken).toBeUndefined();
    return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '' };
  }

  describe('headers on every API answer', () => {
    it('carries a CSP that lets nothing run and Cache-Control: no-store, on successes, errors and streams alike', async () => {
      const answers = [
        await admin.get('/api/v1/me'),
        await admin.get('/api/v1/users'),
        await anonymous.get('/api/v1/me'),
        await admin.get('/api/v1/requests/00000000-0000-4000-8000-000000000000'),
        await anonymous.get('/api/v1/no-such-route'),
        await anonymous.post('/api/v1/auth/login', '{not json'),
        await anonymous.get('/healthz'),
        await anonymous.get('/readyz'),
      ];
      for (const res of answers) {
        expect(res.headers.get('content-security-policy')).toBe(API_CSP);
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      }
      const controller = new AbortController();
      const stream = await fetch(`${gateway.url}/api/v1/events`, { headers: { authorization: `Bearer ${admin.token}` }, signal: controller.signal });
      expect(stream.headers.get('content-security-policy')).toBe(API_CSP);
      expect(stream.headers.get('cache-control')).toBe('no-store');
      controller.abort();
    });

    it('serves Swagger UI on /api/docs with its own CSP (its own scripts, no inline script)', async () => {
      const docs = await anonymous.get('/api/docs');
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-security-policy')).toBe(API_DOCS_CSP);
      expect(API_DOCS_CSP).toContain("script-src 'self'");
      expect(API_DOCS_CSP).not.toMatch(/script-src[^;]*unsafe-inline/);
      // Nest's Swagger page loads its scripts from files: nothing inline that the CSP would block.
      expect(docs.text).not.toMatch(/<script>\s*\S/);
      expect((await anonymous.get('/api/docs-json')).headers.get('content-security-policy')).toBe(API_CSP);
    });

  });

  describe('cross-site state changes', () => {
    it('refuses a cookie-authenticated change without Origin or Sec-Fetch-Site, from another site, or from another origin (403); lets the same origin through', async () => {
      const cookie = await webSession('admin', ADMIN_PASSWORD);
      const body = { username: 'cross-site-victim', password: 'a-password-for-tests', displayName: 'x', roles: ['admin'] };
      const host = new URL(gateway.url).host;
      const variants: Record<string, string>[] = [{}, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }, { origin: 'null' }, { origin: `http://${host}.evil.example` }];
      for (const headers of variants) {
        const refused = await anonymous.post('/api/v1/users', body, { ...cookie, ...headers });
        expectProblem(refused, 403);
        expect(refused.body.code).toBe('FORBIDDEN');
      }
      const listed = await admin.get('/api/v1/users');
      if (listed.status !== 200) throw new Error(listed.text);
      expect(listed.body.users.map((u: { username: string }) => u.username)).not.toContain('cross-site-victim');
      // Reading is not a change: the same cookie may read without either header.
      expect((await anonymous.get('/api/v1/me', cookie)).status).toBe(200);
      const sameOrigin = await anonymous.post('/api/v1/users', { ...body, username: 'same-origin-user' }, { ...cookie, 'sec-fetch-site': 'same-origin', origin: `http://${host}` });
      expect(sameOrigin.status).toBe(201);
      const byOrigin = await anonymous.post('/api/v1/users', { ...body, username: 'same-origin-user-2' }, { ...cookie, origin: `http://${host}` });
      expect(byOrigin.status).toBe(201);
    });

    it('leaves bearer-token clients (the CLI, automation) alone, and refuses a login posted from another site', async () => {
      expect((await admin.post('/api/v1/users', { username: 'bearer-made', password: 'a-password-for-tests', displayName: 'x', roles: [] })).status).toBe(201);
      expectProblem(await anonymous.post('/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, { 'sec-fetch-site': 'cross-site' }), 403);
    });
  });

  describe('sessions end on the server', () => {
    it('logout revokes every session of the user: the cookie, and bearer tokens issued before it; audited; a new login works', async () => {
      const carol = await createUser(admin, 'carol', ['auditor']);
      const cookie = await webSession('carol', carol.password);
      expect((await carol.http.get('/api/v1/me')).status).toBe(200);
      const out = await anonymous.post('/api/v1/auth/logout', undefined, { ...cookie, 'sec-fetch-site': 'same-origin' });
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/^__Host-qg_session=;/);
      expectProblem(await anonymous.get('/api/v1/me', cookie), 401);
      expectProblem(await carol.http.get('/api/v1/me'), 401);
      const again = await anonymous.login('carol', carol.password);
      expect((await again.get('/api/v1/me')).status).toBe(200);
      const entries = (await again.get('/api/v1/audit?limit=1000')).body.entries as { action: string; subject: string }[];
      expect(entries.filter((e) => e.action === 'auth.logout' && e.subject === `user:${carol.id}`)).toHaveLength(1);
      // A logout without a valid session only clears the cookie.
      expect((await anonymous.post('/api/v1/auth/logout')).status).toBe(204);
      expect((await again.get('/api/v1/me')).status).toBe(200);
    });

    it('a password change revokes every session of the user, the one that made it too', async () => {
      const dan = await createUser(admin, 'dan', []);
      const other = await anonymous.login('dan', dan.password);
      const cookie = await webSession('dan', dan.password);
      const changed = await dan.http.put('/api/v1/me/password', { currentPassword: dan.password, newPassword: 'dans-new-password-1234' });
      expect(changed.status).toBe(204);
      expectProblem(await dan.http.get('/api/v1/me'), 401);
      expectProblem(await other.get('/api/v1/me'), 401);
      expectProblem(await anonymous.get('/api/v1/me', cookie), 401);
      expect((await (await anonymous.login('dan', 'dans-new-password-1234')).get('/api/v1/me')).status).toBe(200);
    });
  });

  describe('/metrics', () => {
    it('without QG_METRICS_TOKEN, answers loopback only, and not through a proxy', async () => {
      expect((await anonymous.get('/metrics')).text).toContain('qg_http_requests_total');
      expectProblem(await anonymous.get('/metrics', { 'x-forwarded-for': '203.0.113.9' }), 403);
      expectProblem(await anonymous.get('/metrics', { forwarded: 'for=203.0.113.9' }), 403);
    });

  });

  // Last: passport strategies are registered process-wide, so a second gateway started
  // in this process takes over the first one's authentication (the first one's tokens
  // then verify against the second one's key). Tests of other configurations come last.
  describe('other configurations', () => {
    it('with QG_API_DOCS=off, serves neither Swagger UI nor the OpenAPI document', async () => {
      const quiet = await startTestGateway(kind, { apiDocs: false });
      try {
        const http = new Http(quiet.url);
        expectProblem(await http.get('/api/docs'), 404);
        expectProblem(await http.get('/api/docs-json'), 404);
        expect((await http.get('/healthz')).status).toBe(200);
      } finally {
        await quiet.close();
      }
    });

    it('with QG_METRICS_TOKEN, answers only that bearer token', async () => {
      const token = 'm'.repeat(40);
      const guarded = await startTestGateway(kind, { metricsToken: token });
      try {
        const http = new Http(guarded.url);
        const missing = await http.get('/metrics');
        expectProblem(missing, 401);
        expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expectProblem(await http.as('m'.repeat(39) + 'n').get('/metrics'), 401);
        const admitted = await http.as(token).get('/metrics');
        expect(admitted.status).toBe(200);
        expect(admitted.text).toContain('qg_http_requests_total');
      } finally {
        await guarded.close();
      }
    });
  });
});
