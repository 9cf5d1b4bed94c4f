import { exportPublicJwks, generateCustodianKeys } from '../libs/custodian/index.js';
import { issueAccessToken } from '../apps/gateway/src/auth/access-tokens.js';
import { parseRoleMap, type OidcConfig } from '../apps/gateway/src/config/config.js';
import { Http } from './support/http.js';
import { dumpAllTables, findLeaks } from './support/leak-scan.js';
import { browse, CLIENT_ID, CLIENT_SECRET, CookieJar, freePort, signInAtProvider, startHostileProvider, startTestProvider, type HostileProvider, type TestProvider } from './support/oidc-provider.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './support/test-gateway.js';

const CALLBACK = '/api/v1/auth/oidc/callback';

function oidcConfig(issuer: string): OidcConfig {
  return {
    issuer,
    name: 'Test IdP',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    scopes: 'openid profile email',
    rolesClaim: 'groups',
    roleMap: parseRoleMap('sre=operator,sre=requester,qg-auditors=auditor,qg-leads=security_lead,qg-admins=admin'),
  };
}

/** A gateway on a port known in advance, so that QG_PUBLIC_URL (the redirect URI) can name it. */
async function gatewayFor(kind: Parameters<typeof startTestGateway>[0], port: number, issuer: string): Promise<TestGateway> {
  return startTestGateway(kind, { port, publicUrl: `http://127.0.0.1:${port}`, oidc: oidcConfig(issuer), passwordLogin: false });
}

async function auditEntries(admin: Http): Promise<{ action: string; subject: string; data: Record<string, unknown> }[]> {
  const res = await admin.get('/api/v1/audit?limit=1000');
  expect(res.status).toBe(200);
  return res.body.entries;
}

async function lastLoginFailure(admin: Http): Promise<Record<string, unknown> | undefined> {
  return (await auditEntries(admin)).filter((e) => e.action === 'auth.login_failed').at(-1)?.data;
}

describe.each(testDatabaseKinds())('single sign-on through a real OpenID provider (%s database)', (kind) => {
  let provider: TestProvider;
  let gateway: TestGateway;
  let admin: Http;
  /** What went through the flows and must never be stored or logged: codes, session tokens. */
  const seen: Record<string, string> = {};

  beforeAll(async () => {
    const port = await freePort();
    provider = await startTestProvider(`http://127.0.0.1:${port}${CALLBACK}`);
    gateway = await gatewayFor(kind, port, provider.issuer);
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
  });

  /** Signs in through the provider's login form; the callback's answer and the browser's cookies. */
  async function signIn(login: string, accept = 'text/html'): Promise<{ res: Response; jar: CookieJar; callbackUrl: string }> {
    const jar = new CookieJar();
    const callbackUrl = await signInAtProvider(jar, gateway.url, login);
    const res = await browse(jar, callbackUrl, { accept });
    const n = Object.keys(seen).length;
    seen[`code${n}`] = new URL(callbackUrl).searchParams.get('code') ?? '';
    const session = jar.get(gateway.url, '__Host-qg_session');
    if (session !== undefined) seen[`session${n}`] = session;
    return { res, jar, callbackUrl };
  }

  async function me(jar: CookieJar): Promise<{ status: number; body: any }> {
    return new Http(gateway.url).get('/api/v1/me', { cookie: `__Host-qg_session=${jar.get(gateway.url, '__Host-qg_session') ?? ''}` });
  }

  it('tells the login page that single sign-on is on and password login off', async () => {
    const res = await new Http(gateway.url).get('/api/v1/auth/methods');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ password: false, sso: { name: 'Test IdP', loginUrl: '/api/v1/auth/oidc/login' } });
  });

  it('redirects to the issuer with PKCE (S256), state and nonce', async () => {
    const res = await browse(new CookieJar(), `${gateway.url}/api/v1/auth/oidc/login`);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin).toBe(provider.issuer);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: `${gateway.url}${CALLBACK}`,
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      state: expect.any(String),
      nonce: expect.any(String),
    });
    expect(res.headers.getSetCookie().join()).toMatch(/qg_oidc_flow=.*HttpOnly/i);
  });

  it('creates the user at first login, with the roles the claim maps to, linked to (iss, sub)', async () => {
    provider.accounts.set('carol', { preferred_username: 'Carol', email: 'carol@example.com', name: 'Carol Custodian', groups: ['sre', 'unmapped-team'] });
    const { res, jar } = await signIn('carol');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    expect(res.headers.getSetCookie().join()).toMatch(/qg_session=.*HttpOnly.*SameSite=Strict/i);
    const who = await me(jar);
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ username: 'carol', displayName: 'Carol Custodian', roles: ['operator', 'requester'], groups: ['sre', 'unmapped-team'] });
    const entries = await auditEntries(admin);
    const created = entries.find((e) => e.action === 'user.created' && e.data.via === 'oidc');
    expect(created?.data).toMatchObject({ issuer: provider.issuer, subject: 'carol', username: 'carol', roles: ['operator', 'requester'] });
    expect(entries.at(-1)).toMatchObject({ action: 'auth.login', subject: `user:${who.body.id}` });
  });

  it('refreshes the roles from the claim at the next login: unmapped roles are removed', async () => {
    const before = await me((await signIn('carol')).jar);
    provider.accounts.set('carol', { preferred_username: 'carol', email: 'carol@example.com', name: 'Carol Custodian', groups: ['qg-auditors'] });
    const after = await me((await signIn('carol')).jar);
    expect(after.body).toMatchObject({ id: before.body.id, username: 'carol', roles: ['auditor'], groups: ['qg-auditors'] });
    const updated = (await auditEntries(admin)).filter((e) => e.action === 'user.updated' && e.subject === `user:${before.body.id}`).at(-1);
    expect(updated?.data).toMatchObject({ via: 'oidc', roles: ['auditor'], previousRoles: ['operator', 'requester'] });
  });

  it('never matches by name: a password user of the same name is refused clearly, and audited', async () => {
    const created = await admin.post('/api/v1/users', { username: 'dave', password: 'dave-password-1234', displayName: 'Dave', roles: ['operator'] });
    expect(created.status).toBe(201);
    provider.accounts.set('dave-at-idp', { preferred_username: 'dave', groups: ['qg-leads'] });
    const { res } = await signIn('dave-at-idp', 'application/json');
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'USERNAME_TAKEN', detail: expect.stringContaining('"dave"') });
    expect(await lastLoginFailure(admin)).toEqual({ method: 'oidc', reason: 'username_taken' });
    const users = await admin.get('/api/v1/users');
    expect(users.body.users.find((u: { username: string }) => u.username === 'dave')).toMatchObject({ roles: ['operator'] });
  });

  it('leaves the bootstrap admin a password account: an IdP user named admin is refused', async () => {
    provider.accounts.set('admin-at-idp', { preferred_username: 'admin', groups: ['sre'] });
    const { res } = await signIn('admin-at-idp');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?sso_error=username_taken');
    expect((await admin.get('/api/v1/me')).body).toMatchObject({ username: 'admin', roles: ['admin', 'security_lead', 'auditor'] });
  });

  it('refuses password logins for everyone but the bootstrap admin when QG_PASSWORD_LOGIN=off', async () => {
    const res = await new Http(gateway.url).post('/api/v1/auth/login', { username: 'dave', password: 'dave-password-1234' });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/password login is off/);
    expect((await new Http(gateway.url).post('/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).status).toBe(200);
  });

  it('refuses a disabled user by single sign-on too, and audits it', async () => {
    provider.accounts.set('erin', { preferred_username: 'erin', groups: ['sre'] });
    const first = await me((await signIn('erin')).jar);
    expect(first.status).toBe(200);
    expect((await admin.request('PATCH', `/api/v1/users/${first.body.id}`, { disabled: true })).status).toBe(200);
    const { res, jar } = await signIn('erin', 'application/json');
    expect(res.status).toBe(403);
    expect(jar.get(gateway.url, '__Host-qg_session')).toBeUndefined();
    expect(await lastLoginFailure(admin)).toEqual({ reason: 'disabled' });
  });

  it('lets a single sign-on user enrol custodian keys within 5 minutes of signing in, in place of the password they do not have', async () => {
    provider.accounts.set('olga', { preferred_username: 'olga', groups: ['sre'] });
    const { jar } = await signIn('olga');
    const session = { origin: gateway.url, cookie: `__Host-qg_session=${jar.get(gateway.url, '__Host-qg_session')}` };
    const who = await me(jar);
    expect(who.body).toMatchObject({ username: 'olga', signIn: 'sso', keys: null });
    const jwks = await exportPublicJwks(await generateCustodianKeys());
    const keys = { encryptionKey: jwks.encryptionKey, signingKey: jwks.signingKey };

    // A session signed in six minutes ago (a stolen cookie, say) cannot enrol.
    const stale = await issueAccessToken(gateway.ctx.signingKey, who.body.id, Math.floor(Date.now() / 1000) - 360);
    const refused = await new Http(gateway.url, stale).put('/api/v1/me/keys', keys);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FRESH_SIGN_IN_REQUIRED');
    expect((await new Http(gateway.url, stale).get('/api/v1/me')).body.keys).toBeNull();

    const enrolled = await new Http(gateway.url).put('/api/v1/me/keys', keys, session);
    expect(enrolled.status).toBe(200);
    expect(enrolled.body.keys).toMatchObject({ encryptionThumbprint: jwks.encryptionThumbprint, signingThumbprint: jwks.signingThumbprint });

    // No password to change, and none to sign in with.
    const password = await new Http(gateway.url).put('/api/v1/me/password', { currentPassword: 'anything-at-all', newPassword: 'a-new-password-1234' }, session);
    expect(password.status).toBe(403);
    // A password user still has to give theirs.
    const adminKeys = await admin.put('/api/v1/me/keys', keys);
    expect(adminKeys.status).toBe(400);
    expect(adminKeys.body.detail).toMatch(/currentPassword/);
  });

  it('refuses a callback whose state was changed, and audits it', async () => {
    provider.accounts.set('frank', { preferred_username: 'frank', groups: ['sre'] });
    const jar = new CookieJar();
    const callback = new URL(await signInAtProvider(jar, gateway.url, 'frank'));
    callback.searchParams.set('state', 'forged-state');
    const res = await browse(jar, callback.href);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'SSO_FAILED', reason: 'state_mismatch' });
    expect(await lastLoginFailure(admin)).toEqual({ method: 'oidc', reason: 'state_mismatch' });
    expect(jar.get(gateway.url, '__Host-qg_session')).toBeUndefined();
  });

  it('refuses a replayed code, even with the flow cookie kept, and audits it', async () => {
    const jar = new CookieJar();
    const callbackUrl = await signInAtProvider(jar, gateway.url, 'frank');
    const flowCookie = jar.get(gateway.url, 'qg_oidc_flow')!;
    expect((await browse(jar, callbackUrl)).status).toBe(303);
    const replayJar = new CookieJar();
    replayJar.set(gateway.url, 'qg_oidc_flow', flowCookie);
    const replay = await browse(replayJar, callbackUrl);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ code: 'SSO_FAILED', reason: 'code_rejected' });
    expect(await lastLoginFailure(admin)).toEqual({ method: 'oidc', reason: 'code_rejected' });
  });

  it('refuses a callback in a browser that did not start the flow (login CSRF), and audits it', async () => {
    const callbackUrl = await signInAtProvider(new CookieJar(), gateway.url, 'frank');
    const res = await browse(new CookieJar(), callbackUrl, { accept: 'text/html' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?sso_error=flow_missing');
    expect(await lastLoginFailure(admin)).toEqual({ method: 'oidc', reason: 'flow_missing' });
  });

  it('never demotes the last enabled admin: the role the claim no longer maps is kept, and the audit says why', async () => {
    provider.accounts.set('ada', { preferred_username: 'ada', groups: ['qg-admins'] });
    const ada = await me((await signIn('ada')).jar);
    expect(ada.body.roles).toEqual(['admin']);
    const adminId = (await admin.get('/api/v1/me')).body.id;
    expect((await admin.request('PATCH', `/api/v1/users/${adminId}`, { disabled: true })).status).toBe(200);
    try {
      provider.accounts.set('ada', { preferred_username: 'ada', groups: ['sre'] });
      const after = await signIn('ada');
      expect(after.res.status).toBe(303);
      expect((await me(after.jar)).body.roles).toEqual(['admin', 'operator', 'requester']);
      // Once another admin is enabled again, the next login drops it.
      const enabled = await new Http(gateway.url).request('PATCH', `/api/v1/users/${adminId}`, { disabled: false }, { origin: gateway.url, cookie: `__Host-qg_session=${after.jar.get(gateway.url, '__Host-qg_session')}` });
      expect(enabled.status).toBe(200);
      const updated = (await auditEntries(admin)).filter((e) => e.action === 'user.updated' && e.subject === `user:${ada.body.id}`).at(-1);
      expect(updated?.data).toMatchObject({ via: 'oidc', keptAdmin: 'last_enabled_admin', roles: ['admin', 'operator', 'requester'] });
      expect((await me((await signIn('ada')).jar)).body.roles).toEqual(['operator', 'requester']);
    } finally {
      await new Http(gateway.url).request('PATCH', `/api/v1/users/${adminId}`, { disabled: false }, { origin: gateway.url, cookie: `__Host-qg_session=${(await signIn('ada')).jar.get(gateway.url, '__Host-qg_session')}` });
    }
  });

  it('stores and logs no client secret, authorization code or session token', async () => {
    expect(Object.keys(seen).length).toBeGreaterThan(4);
    const haystack = (await dumpAllTables(gateway.ctx.dataSource)) + gateway.logs.join('\n');
    expect(haystack).toContain('carol'); // the scan does see the data
    expect(findLeaks(haystack, { clientSecret: CLIENT_SECRET, ...seen, masterKey: gateway.ctx.masterKey })).toEqual([]);
  });

  it('answers 404 problem+json for single sign-on where it is not configured', async () => {
    const plain = await startTestGateway(kind);
    try {
      const res = await new Http(plain.url).get('/api/v1/auth/oidc/login');
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await new Http(plain.url).get('/api/v1/auth/methods')).body).toEqual({ password: true, sso: null });
    } finally {
      await plain.close();
    }
  });
});

describe.each(testDatabaseKinds())('single sign-on against a hostile provider (%s database)', (kind) => {
  let hostile: HostileProvider;
  let gateway: TestGateway;
  let admin: Http;

  beforeAll(async () => {
    hostile = await startHostileProvider();
    gateway = await gatewayFor(kind, await freePort(), hostile.issuer);
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await gateway?.close();
    await hostile?.close();
  });

  /** Starts a flow, has the provider answer with the claims `tamper` makes of good ones, calls back. */
  async function callbackWith(tamper: (good: Record<string, unknown>) => Record<string, unknown>): Promise<{ res: Response; jar: CookieJar }> {
    const jar = new CookieJar();
    const start = await browse(jar, `${gateway.url}/api/v1/auth/oidc/login`);
    const authorize = new URL(start.headers.get('location')!);
    const now = Math.floor(Date.now() / 1000);
    hostile.nextIdToken = tamper({
      iss: hostile.issuer,
      sub: 'mallory-sub',
      aud: CLIENT_ID,
      iat: now,
      exp: now + 300,
      nonce: authorize.searchParams.get('nonce'),
      preferred_username: 'mallory',
      groups: ['qg-leads'],
    });
    const res = await browse(jar, `${gateway.url}${CALLBACK}?code=any-code&state=${authorize.searchParams.get('state')}`);
    return { res, jar };
  }

  it.each([
    ['a token for another audience', (c: Record<string, unknown>) => ({ ...c, aud: 'another-client' }), 'id_token_audience'],
    ['an expired token', (c: Record<string, unknown>) => ({ ...c, iat: Number(c.iat) - 7200, exp: Number(c.iat) - 3600 }), 'id_token_expired'],
    ['a wrong nonce', (c: Record<string, unknown>) => ({ ...c, nonce: 'not-the-nonce' }), 'id_token_nonce'],
    ['a token from another issuer', (c: Record<string, unknown>) => ({ ...c, iss: 'https://evil.example' }), 'id_token_issuer'],
  ])('refuses %s, and audits it', async (_, tamper, reason) => {
    const { res, jar } = await callbackWith(tamper);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'SSO_FAILED', reason });
    expect(jar.get(gateway.url, '__Host-qg_session')).toBeUndefined();
    expect(await lastLoginFailure(admin)).toEqual({ method: 'oidc', reason });
    expect((await admin.get('/api/v1/users')).body.users.some((u: { username: string }) => u.username === 'mallory')).toBe(false);
  });

  it('accepts the same answer untampered (so the refusals above are the checks, not the harness)', async () => {
    const { res, jar } = await callbackWith((c) => c);
    expect(res.status).toBe(303);
    const me = await new Http(gateway.url).get('/api/v1/me', { cookie: `__Host-qg_session=${jar.get(gateway.url, '__Host-qg_session')}` });
    expect(me.body).toMatchObject({ username: 'mallory', roles: ['security_lead'] });
  });
});
