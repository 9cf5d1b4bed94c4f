import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, base64url } from 'jose';
import { issueAccessToken } from '../apps/gateway/src/auth/access-tokens.js';
import { LOGIN_FAILURES_ALLOWED, LOGIN_FAILURE_WINDOW_SECONDS } from '../apps/gateway/src/auth/login-throttle.js';
import { EVENTS_HEARTBEAT_MS } from '../apps/gateway/src/requests/events.controller.js';
import { startGateway } from '../apps/gateway/src/gateway.js';
import { Http } from './support/http.js';
import { markFirstLoginChangeMade } from './support/first-login.js';
import { dumpAllTables, findLeaks } from './support/leak-scan.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, logCollector, startTestGateway, testConfig, type TestGateway } from './support/test-gateway.js';

const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

describe.each(testDatabaseKinds())('accounts and authentication (%s database)', (kind) => {
  let gateway: TestGateway;
  let anonymous: Http;
  let admin: Http;
  const passwords = { alice: 'alice-password-1234', bob: 'bob-password-12345' };
  let serviceToken = '';

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    anonymous = new Http(gateway.url);
    admin = await anonymous.login('admin', ADMIN_PASSWORD);
  });
  afterAll(() => gateway.close());

  function expectProblem(res: { status: number; headers: Headers; body: any }, status: number): void {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  }

  /** A new, enabled user, created by the admin and past the first-login password change (support/first-login.ts), and their password. */
  async function createUser(username: string, roles: string[] = []): Promise<{ id: string; password: string }> {
    const password = `${username}-password-1234`;
    const res = await admin.post('/api/v1/users', { username, password, displayName: username, roles });
    expect(res.status).toBe(201);
    expect(res.body.disabled).toBe(false);
    expect(await markFirstLoginChangeMade(gateway.url, username)).toBe(true);
    return { id: res.body.id, password };
  }

  describe('login', () => {
    it('returns an access token and sets no cookie; with X-QG-Session: cookie, sets a __Host- HttpOnly SameSite=Strict Secure cookie and returns no token', async () => {
      const res = await anonymous.post('/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 3600 });
      expect(res.headers.get('set-cookie')).toBeNull();
      const web = await anonymous.post('/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, { 'x-qg-session': 'cookie' });
      expect(web.status).toBe(200);
      expect(web.body).toEqual({ tokenType: 'Cookie', expiresIn: 3600 });
      const cookie = web.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^__Host-qg_session=/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      expect(cookie).toMatch(/; Secure/i);
      expect(cookie).toMatch(/Path=\//);
      expect(cookie).not.toMatch(/Domain=/i);
      const viaCookie = await anonymous.get('/api/v1/me', { cookie: cookie.split(';')[0] ?? '' });
      expect(viaCookie.status).toBe(200);
      expect(viaCookie.body.username).toBe('admin');
    });

    it.each([
      ['a wrong password', { username: 'admin', password: 'not-the-password' }],
      ['an unknown user', { username: 'nobody', password: 'whatever-password' }],
    ])('refuses %s with 401', async (_, body) => {
      expectProblem(await anonymous.post('/api/v1/auth/login', body), 401);
    });
  });

  describe('tokens', () => {
    it('accepts the gateway-issued token', async () => {
      const me = await admin.get('/api/v1/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ username: 'admin', roles: expect.arrayContaining(['admin']), keys: null });
    });

    it('refuses a token signed by another key under the gateway kid', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      const me = await admin.get('/api/v1/me');
      const forged = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: gateway.ctx.signingKey.kid, typ: 'at+jwt' })
        .setIssuer('quorumgate')
        .setAudience('quorumgate-api')
        .setSubject(me.body.id)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey);
      expectProblem(await anonymous.as(forged).get('/api/v1/me'), 401);
    });

    it('refuses an expired token', async () => {
      const me = await admin.get('/api/v1/me');
      const expired = await issueAccessToken(gateway.ctx.signingKey, me.body.id, Math.floor(Date.now() / 1000) - 7200);
      expectProblem(await anonymous.as(expired).get('/api/v1/me'), 401);
    });

    it('refuses an alg:none token and garbage', async () => {
      const me = await admin.get('/api/v1/me');
      const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }));
      const payload = base64url.encode(JSON.stringify({ sub: me.body.id, iss: 'quorumgate', aud: 'quorumgate-api', exp: Math.floor(Date.now() / 1000) + 3600 }));
      expectProblem(await anonymous.as(`${header}.${payload}.`).get('/api/v1/me'), 401);
      expectProblem(await anonymous.as('not-a-token').get('/api/v1/me'), 401);
      expectProblem(await anonymous.get('/api/v1/me'), 401);
    });
  });

  describe('users and service accounts', () => {
    it('creates users (201), refuses a duplicate username (409) and lists them', async () => {
      const alice = await admin.post('/api/v1/users', { username: 'alice', password: passwords.alice, displayName: 'Alice', roles: ['operator'], groups: ['sre'] });
      expect(alice.status).toBe(201);
      expect(alice.body).toEqual({ id: expect.any(String), username: 'alice', displayName: 'Alice', roles: ['operator'], groups: ['sre'], disabled: false });
      const bob = await admin.post('/api/v1/users', { username: 'bob', password: passwords.bob, displayName: 'Bob', roles: ['requester'] });
      expect(bob.status).toBe(201);
      expectProblem(await admin.post('/api/v1/users', { username: 'alice', password: 'another-password-1', displayName: 'A2', roles: [] }), 409);
      const list = await admin.get('/api/v1/users');
      expect(list.body.users.map((u: { username: string }) => u.username)).toEqual(['admin', 'alice', 'bob']);
      // No password material; the two flags about passwords (docs/adr/0013) are named and typed.
      const flags = list.body.users.map(({ mustChangePassword, signIn }: { mustChangePassword: unknown; signIn: unknown }) => [mustChangePassword, signIn]);
      expect(flags).toEqual([[false, 'password'], [true, 'password'], [true, 'password']]);
      const rest = list.body.users.map(({ mustChangePassword: _m, signIn: _s, ...other }: Record<string, unknown>) => other);
      expect(JSON.stringify(rest)).not.toMatch(/password/i);
    });

    it('issues a service-account token once; it authenticates and is never shown again', async () => {
      const created = await admin.post('/api/v1/service-accounts', { name: 'ci-release', roles: ['requester'] });
      expect(created.status).toBe(201);
      const adminId = (await admin.get('/api/v1/me')).body.id;
      expect(created.body).toEqual({ id: expect.any(String), name: 'ci-release', roles: ['requester'], ownerId: adminId, createdAt: expect.any(String), revokedAt: null, token: expect.stringMatching(/^qgs_/) });
      serviceToken = created.body.token;
      const me = await anonymous.as(serviceToken).get('/api/v1/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: created.body.id, kind: 'service_account', roles: ['requester'] });
      const list = await admin.get('/api/v1/service-accounts');
      expect(list.status).toBe(200);
      expect(list.text).not.toContain(serviceToken);
      expect(list.body.serviceAccounts[0]).not.toHaveProperty('token');
      expectProblem(await anonymous.as(serviceToken.slice(0, -2) + 'xx').get('/api/v1/me'), 401);
      expectProblem(await admin.post('/api/v1/service-accounts', { name: 'ci-release', roles: ['requester'] }), 409);
    });

    it('changes a password only with the current one', async () => {
      const bob = await anonymous.login('bob', passwords.bob);
      expectProblem(await bob.put('/api/v1/me/password', { currentPassword: 'wrong-password-here', newPassword: 'bob-new-password-123' }), 401);
      expect((await bob.put('/api/v1/me/password', { currentPassword: passwords.bob, newPassword: 'bob-new-password-123' })).status).toBe(204);
      expectProblem(await anonymous.post('/api/v1/auth/login', { username: 'bob', password: passwords.bob }), 401);
      // The change ended every session of bob's, the one that made it too.
      expectProblem(await bob.get('/api/v1/me'), 401);
      const again = await anonymous.login('bob', 'bob-new-password-123');
      expect((await again.put('/api/v1/me/password', { currentPassword: 'bob-new-password-123', newPassword: passwords.bob })).status).toBe(204);
    });

    const endpoints: { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; path: string; body?: unknown; allowed: string[] }[] = [
      { method: 'GET', path: '/api/v1/me', allowed: ['admin', 'operator', 'requester', 'service'] },
      { method: 'POST', path: '/api/v1/users', body: { username: 'zed', password: 'zed-password-1234', displayName: 'Zed', roles: [] }, allowed: ['admin'] },
      { method: 'GET', path: '/api/v1/users', allowed: ['admin'] },
      { method: 'POST', path: '/api/v1/service-accounts', body: { name: 'zed-bot', roles: [] }, allowed: ['admin'] },
      { method: 'GET', path: '/api/v1/service-accounts', allowed: ['admin'] },
      { method: 'PATCH', path: `/api/v1/users/${NO_SUCH_ID}`, body: { disabled: false }, allowed: ['admin'] },
      { method: 'DELETE', path: `/api/v1/service-accounts/${NO_SUCH_ID}`, allowed: ['admin'] },
    ];

    it.each(endpoints)('guards $method $path: 401 anonymous, 403 for the wrong role', async ({ method, path, body, allowed }) => {
      const callers: Record<string, Http> = {
        admin,
        operator: await anonymous.login('alice', passwords.alice),
        requester: await anonymous.login('bob', passwords.bob),
        service: anonymous.as(serviceToken),
      };
      expectProblem(await anonymous.request(method, path, body), 401);
      for (const [name, caller] of Object.entries(callers)) {
        if (allowed.includes(name)) continue;
        expectProblem(await caller.request(method, path, body), 403);
      }
    });
  });

  describe('bad input', () => {
    it('answers malformed JSON with 400 problem+json', async () => {
      expectProblem(await admin.post('/api/v1/users', '{"username": "x",', { 'content-type': 'application/json' }), 400);
    });

    it('answers an unknown field with 400 naming it, and creates nothing', async () => {
      const res = await admin.post('/api/v1/users', { username: 'carol', password: 'carol-password-1234', displayName: 'Carol', roles: [], isRoot: true });
      expectProblem(res, 400);
      expect(res.body.detail).toContain('isRoot');
      const list = await admin.get('/api/v1/users');
      expect(list.body.users.map((u: { username: string }) => u.username)).not.toContain('carol');
    });

    it('answers a validation failure with 400 naming the field', async () => {
      const res = await admin.post('/api/v1/users', { username: 'Bad Name!', password: 'short', displayName: 'x', roles: ['root'] });
      expectProblem(res, 400);
      expect(res.body.detail).toMatch(/username/);
      expect(res.body.detail).toMatch(/password/);
      expect(res.body.detail).toMatch(/roles/);
    });

    it('answers a body over 1 MiB with 413 problem+json', async () => {
      expectProblem(await admin.post('/api/v1/users', { username: 'big', password: 'x'.repeat(1_100_000), displayName: 'Big', roles: [] }), 413);
    });

    it('answers an unknown route with 404 problem+json', async () => {
      expectProblem(await admin.get('/api/v1/no-such-thing'), 404);
    });
  });

  describe('account lifecycle', () => {
    const patchUser = (id: string, change: unknown) => admin.request('PATCH', `/api/v1/users/${id}`, change);

    it('disables a user: their token and cookie are refused from the next call and login answers 403; enabling restores them; both audited', async () => {
      const henry = await createUser('henry', ['operator']);
      const login = await anonymous.post('/api/v1/auth/login', { username: 'henry', password: henry.password });
      const token = anonymous.as(login.body.accessToken);
      const webLogin = await anonymous.post('/api/v1/auth/login', { username: 'henry', password: henry.password }, { 'x-qg-session': 'cookie' });
      const cookie = { cookie: (webLogin.headers.get('set-cookie') ?? '').split(';')[0] ?? '' };
      expect((await token.get('/api/v1/me')).status).toBe(200);

      const disabled = await patchUser(henry.id, { disabled: true });
      expect(disabled.status).toBe(200);
      expect(disabled.body).toMatchObject({ id: henry.id, username: 'henry', roles: ['operator'], disabled: true });
      expectProblem(await token.get('/api/v1/me'), 401);
      expectProblem(await anonymous.get('/api/v1/me', cookie), 401);
      const refused = await anonymous.post('/api/v1/auth/login', { username: 'henry', password: henry.password });
      expectProblem(refused, 403);
      expect(refused.body.detail).toMatch(/disabled/);
      expect(refused.body).not.toHaveProperty('accessToken');
      const listed = (await admin.get('/api/v1/users')).body.users.find((u: { id: string }) => u.id === henry.id);
      expect(listed.disabled).toBe(true);

      expect((await patchUser(henry.id, { disabled: false })).body.disabled).toBe(false);
      expect((await token.get('/api/v1/me')).status).toBe(200);
      expect((await anonymous.post('/api/v1/auth/login', { username: 'henry', password: henry.password })).status).toBe(200);

      const auditor = await anonymous.login('henry-auditor', (await createUser('henry-auditor', ['auditor'])).password);
      const entries = (await auditor.get('/api/v1/audit?limit=1000')).body.entries as { action: string; subject: string; data: unknown }[];
      expect(entries.filter((e) => e.action === 'user.updated' && e.subject === `user:${henry.id}`).map((e) => e.data)).toEqual([{ disabled: true }, { disabled: false }]);
      expect(entries).toContainEqual(expect.objectContaining({ action: 'auth.login_failed', subject: `user:${henry.id}`, data: { reason: 'disabled' } }));
    });

    it('changes roles and groups with effect on the next call of a token issued before', async () => {
      const ivy = await createUser('ivy', ['requester']);
      const ivyHttp = await anonymous.login('ivy', ivy.password);
      expectProblem(await ivyHttp.get('/api/v1/users'), 403);
      const changed = await patchUser(ivy.id, { roles: ['auditor'], groups: ['sre'] });
      expect(changed.body).toMatchObject({ roles: ['auditor'], groups: ['sre'], disabled: false });
      expect((await ivyHttp.get('/api/v1/users')).status).toBe(200);
      expect((await ivyHttp.get('/api/v1/me')).body).toMatchObject({ roles: ['auditor'], groups: ['sre'] });
    });

    it('keeps an enabled admin: the last one cannot be disabled or demoted (409, nothing changes); another admin can be', async () => {
      const me = (await admin.get('/api/v1/me')).body;
      expectProblem(await patchUser(me.id, { disabled: true }), 409);
      expectProblem(await patchUser(me.id, { roles: ['operator'] }), 409);
      expect((await admin.get('/api/v1/me')).body).toMatchObject({ roles: me.roles, disabled: false });
      const jade = await createUser('jade', ['admin']);
      expect((await patchUser(jade.id, { disabled: true })).status).toBe(200);
      expect((await patchUser(jade.id, { roles: [], disabled: false })).body).toMatchObject({ roles: [], disabled: false });
    });

    it.each([
      ['an unknown id', NO_SUCH_ID, { disabled: true }, 404],
      ['an id that is no uuid', 'not-a-uuid', { disabled: true }, 404],
      ['an empty change', undefined, {}, 400],
      ['an unknown role', undefined, { roles: ['root'] }, 400],
      ['a disabled that is no boolean', undefined, { disabled: 'yes' }, 400],
      ['an unknown field', undefined, { disabled: false, isRoot: true }, 400],
    ])('refuses %s with a problem and changes nothing', async (_, id, change, status) => {
      const target = id ?? (await admin.get('/api/v1/users')).body.users.find((u: { username: string }) => u.username === 'bob').id;
      const before = (await admin.get('/api/v1/users')).body;
      expectProblem(await patchUser(target, change), status);
      expect((await admin.get('/api/v1/users')).body).toEqual(before);
    });

    it('revokes a service account: its token is refused from the next call, it stays listed with revokedAt, a second revoke is 404', async () => {
      const created = await admin.post('/api/v1/service-accounts', { name: 'old-bot', roles: ['requester'] });
      const bot = anonymous.as(created.body.token);
      expect((await bot.get('/api/v1/me')).status).toBe(200);
      const revoked = await admin.request('DELETE', `/api/v1/service-accounts/${created.body.id}`);
      expect(revoked.status).toBe(204);
      expectProblem(await bot.get('/api/v1/me'), 401);
      const listed = (await admin.get('/api/v1/service-accounts')).body.serviceAccounts.find((a: { id: string }) => a.id === created.body.id);
      expect(listed).toMatchObject({ name: 'old-bot', revokedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      expectProblem(await admin.request('DELETE', `/api/v1/service-accounts/${created.body.id}`), 404);
      expectProblem(await admin.request('DELETE', `/api/v1/service-accounts/${NO_SUCH_ID}`), 404);
    });

    it(`ends a disabled user's event stream at the next heartbeat (${EVENTS_HEARTBEAT_MS / 1000} s)`, async () => {
      const kate = await createUser('kate', ['operator']);
      const token = (await anonymous.post('/api/v1/auth/login', { username: 'kate', password: kate.password })).body.accessToken;
      const stream = await fetch(`${gateway.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` } });
      expect(stream.status).toBe(200);
      const reader = stream.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain(': connected');
      await patchUser(kate.id, { disabled: true });
      const started = Date.now();
      let ended = false;
      while (!ended && Date.now() - started < EVENTS_HEARTBEAT_MS + 5000) ended = (await reader.read()).done;
      expect(ended).toBe(true);
    }, EVENTS_HEARTBEAT_MS + 15000);
  });

  describe('operations surface', () => {
    it('serves health, readiness, metrics, JWKS and OpenAPI', async () => {
      expect((await anonymous.get('/healthz')).body).toEqual({ status: 'ok' });
      expect((await anonymous.get('/readyz')).body).toEqual({ status: 'ready', database: kind });
      const metrics = await anonymous.get('/metrics');
      expect(metrics.text).toContain('qg_http_requests_total');
      const jwks = await anonymous.get('/.well-known/jwks.json');
      expect(jwks.body.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: gateway.ctx.signingKey.kid })]);
      expect(jwks.body.keys[0]).not.toHaveProperty('d');
      const openapi = await anonymous.get('/api/docs-json');
      expect(openapi.body.paths).toHaveProperty('/api/v1/users');
      expect((await anonymous.get('/api/docs')).status).toBe(200);
    });

    it('names no framework and forbids content sniffing on every answer, errors included', async () => {
      for (const res of [await anonymous.get('/healthz'), await anonymous.get('/api/v1/no-such-thing'), await admin.get('/api/v1/me'), await anonymous.get('/')]) {
        expect(res.headers.get('x-powered-by')).toBeNull();
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      }
    });
  });

  describe('login throttling', () => {
    const login = (username: string, password: string, from?: string) =>
      anonymous.post('/api/v1/auth/login', { username, password }, from === undefined ? {} : { 'x-forwarded-for': from });

    it(`refuses a username from one address after ${LOGIN_FAILURES_ALLOWED} failures with 429 and Retry-After, even with the right password; the refusal is not audited`, async () => {
      const dave = await createUser('dave');
      const daveAuditor = await createUser('dave-auditor', ['auditor']);
      for (let i = 0; i < LOGIN_FAILURES_ALLOWED; i++) expectProblem(await login('dave', `wrong-guess-${i}`), 401);
      const refused = await login('dave', dave.password);
      expectProblem(refused, 429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(LOGIN_FAILURE_WINDOW_SECONDS);
      expect(refused.body).toMatchObject({ code: 'TOO_MANY_ATTEMPTS', retryAfterSeconds: retryAfter, detail: expect.stringMatching(/try again in 1[45] min$/) });
      // Another person on the same address is not refused.
      expect((await login('dave-auditor', daveAuditor.password)).status).toBe(200);
      const auditor = await anonymous.login('dave-auditor', daveAuditor.password);
      const entries = (await auditor.get('/api/v1/audit?limit=1000')).body.entries as { action: string; subject: string }[];
      expect(entries.filter((e) => e.action === 'auth.login_failed' && e.subject === 'username:dave')).toHaveLength(LOGIN_FAILURES_ALLOWED);
    });

    it('forgets the failures once the right password is given', async () => {
      const erin = await createUser('erin');
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < LOGIN_FAILURES_ALLOWED - 1; i++) expectProblem(await login('erin', `wrong-guess-${i}`), 401);
        expect((await login('erin', erin.password)).status).toBe(200);
      }
    });

    it('counts by the address a trusted proxy reports, and believes no address from an untrusted one', async () => {
      const frank = await createUser('frank');
      for (let i = 0; i < LOGIN_FAILURES_ALLOWED; i++) expectProblem(await login('frank', `wrong-guess-${i}`, '203.0.113.7'), 401);
      // This gateway trusts no proxy: the header is ignored and every attempt came from 127.0.0.1.
      expectProblem(await login('frank', frank.password, '203.0.113.8'), 429);

      const behindProxy = await startTestGateway(kind, { trustProxy: ['loopback'] });
      try {
        const viaProxy = new Http(behindProxy.url);
        const proxyAdmin = await viaProxy.login('admin', ADMIN_PASSWORD);
        expect((await proxyAdmin.post('/api/v1/users', { username: 'grace', password: 'grace-password-1234', displayName: 'Grace', roles: [] })).status).toBe(201);
        for (let i = 0; i < LOGIN_FAILURES_ALLOWED; i++) {
          expectProblem(await viaProxy.post('/api/v1/auth/login', { username: 'grace', password: `wrong-guess-${i}` }, { 'x-forwarded-for': '203.0.113.7' }), 401);
        }
        expectProblem(await viaProxy.post('/api/v1/auth/login', { username: 'grace', password: 'grace-password-1234' }, { 'x-forwarded-for': '203.0.113.7' }), 429);
        expect((await viaProxy.post('/api/v1/auth/login', { username: 'grace', password: 'grace-password-1234' }, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
      } finally {
        await behindProxy.close();
      }
    });
  });

  describe('no secret at rest', () => {
    it('leaves no password, token or key in plaintext in any table or log line', async () => {
      const accessToken = (await anonymous.post('/api/v1/auth/login', { username: 'alice', password: passwords.alice })).body.accessToken;
      const privateJwk = await exportJWK(gateway.ctx.signingKey.privateKey).catch(() => undefined);
      expect(privateJwk).toBeUndefined(); // the in-memory key is not even extractable
      const haystack = (await dumpAllTables(gateway.ctx.dataSource)) + gateway.logs.join('\n');
      expect(haystack).toContain('alice'); // the scan does see the data
      expect(findLeaks(haystack, { admin: ADMIN_PASSWORD, ...passwords, serviceToken, accessToken, masterKey: gateway.ctx.masterKey })).toEqual([]);
    });
  });
});

describe('startup', () => {
  it('refuses an external database without a master key', async () => {
    const logs = logCollector();
    await expect(
      startGateway({ config: testConfig({ databaseUrl: 'postgres://127.0.0.1:1/none_test', masterKey: undefined }), logDestination: logs.destination }),
    ).rejects.toThrow(/QG_MASTER_KEY/);
  });

  it('keeps its data and master key across a restart and bootstraps the admin only once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'qg-restart-test-'));
    try {
      const config = testConfig({ dataDir, masterKey: undefined, bootstrapAdminPassword: undefined });
      const first = await startGateway({ config, logDestination: logCollector().destination });
      expect(first.bootstrap).toMatchObject({ created: true, username: 'admin', generatedPassword: expect.any(String) });
      const password = first.bootstrap.created ? (first.bootstrap.generatedPassword ?? '') : '';
      const kid = first.ctx.signingKey.kid;
      await first.close();
      expect((await stat(join(dataDir, 'master.key'))).mode & 0o777).toBe(0o600);

      const second = await startGateway({ config, logDestination: logCollector().destination });
      try {
        expect(second.bootstrap).toEqual({ created: false });
        expect(second.ctx.signingKey.kid).toBe(kid);
        await new Http(second.url).login('admin', password);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
