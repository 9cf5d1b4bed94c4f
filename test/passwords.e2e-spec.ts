import { parseRoleMap } from '../apps/gateway/src/config/config.js';
import { Http, type HttpResult } from './support/http.js';
import { browse, CLIENT_ID, CLIENT_SECRET, CookieJar, freePort, signInAtProvider, startTestProvider, type TestProvider } from './support/oidc-provider.js';
import { createUser } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './support/test-gateway.js';

/**
 * Issue 19 item 2 (docs/adr/0013): a password an admin chose (the bootstrap admin's, a new
 * user's, a reset one) must be replaced by its owner before anything else; a change asks
 * for the current password; an admin's reset forces a change and ends every session.
 */
describe.each(testDatabaseKinds())('passwords: first-login change, change, admin reset (%s database)', (kind) => {
  const BOOTSTRAP_PASSWORD = 'bootstrap-password-from-the-env';
  const ADMIN_OWN_PASSWORD = 'the-admins-own-password-42';
  let gateway: TestGateway;
  let anonymous: Http;
  /** The bootstrap admin, once they have changed their password. */
  let admin: Http;

  beforeAll(async () => {
    // With an admin password of its own, the test gateway leaves the first-login change to this test.
    gateway = await startTestGateway(kind, { bootstrapAdminPassword: BOOTSTRAP_PASSWORD });
    anonymous = new Http(gateway.url);
  });
  afterAll(() => gateway.close());

  function expectProblem(res: HttpResult, status: number, code: string): void {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  }

  async function bearerLogin(username: string, password: string): Promise<{ res: HttpResult; http: Http }> {
    const res = await anonymous.post('/api/v1/auth/login', { username, password });
    expect(res.status).toBe(200);
    return { res, http: anonymous.as(res.body.accessToken as string) };
  }

  async function auditEntries(): Promise<{ actor: string; action: string; subject: string; data: unknown }[]> {
    const auditor = await createUser(admin, `pw-auditor-${Math.random().toString(36).slice(2, 8)}`, ['auditor']);
    return (await auditor.http.get('/api/v1/audit?limit=1000')).body.entries;
  }

  /** While the flag is set, these answer 403 PASSWORD_CHANGE_REQUIRED, whatever the caller's roles. */
  async function expectOnlyPasswordChangeAllowed(http: Http): Promise<void> {
    for (const [method, path, body] of [
      ['GET', '/api/v1/users', undefined],
      ['POST', '/api/v1/users', { username: 'sneaky', password: 'sneaky-password-1234', displayName: 'Sneaky', roles: ['admin'] }],
      ['GET', '/api/v1/requests', undefined],
      ['GET', '/api/v1/credentials', undefined],
      ['GET', '/api/v1/events', undefined],
      ['PUT', '/api/v1/me/keys', {}],
      ['GET', '/api/v1/me/notifications', undefined],
    ] as const) {
      expectProblem(await http.request(method, path, body), 403, 'PASSWORD_CHANGE_REQUIRED');
    }
    const me = await http.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.mustChangePassword).toBe(true);
  }

  it('the bootstrap admin must change the password at first login: nothing else answers until then, the old one is refused after', async () => {
    const { res, http } = await bearerLogin('admin', BOOTSTRAP_PASSWORD);
    expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 3600, mustChangePassword: true });
    await expectOnlyPasswordChangeAllowed(http);
    // Nothing was created by the refused POST /users.
    expect(await gateway.ctx.dataSource.query(`SELECT 1 FROM users WHERE username = 'sneaky'`)).toEqual([]);
    // The admin's chosen password cannot be kept, and a wrong current one is refused.
    expectProblem(await http.put('/api/v1/me/password', { currentPassword: BOOTSTRAP_PASSWORD, newPassword: BOOTSTRAP_PASSWORD }), 400, 'PASSWORD_UNCHANGED');
    expectProblem(await http.put('/api/v1/me/password', { currentPassword: 'not-the-password', newPassword: ADMIN_OWN_PASSWORD }), 401, 'AUTH_INVALID_CREDENTIALS');
    expectProblem(await http.put('/api/v1/me/password', { currentPassword: BOOTSTRAP_PASSWORD, newPassword: 'short' }), 400, 'VALIDATION_FAILED');
    expect((await http.put('/api/v1/me/password', { currentPassword: BOOTSTRAP_PASSWORD, newPassword: ADMIN_OWN_PASSWORD })).status).toBe(204);
    // The change ended that session; the old password is refused, the new one works without the flag.
    expect((await http.get('/api/v1/me')).status).toBe(401);
    expectProblem(await anonymous.post('/api/v1/auth/login', { username: 'admin', password: BOOTSTRAP_PASSWORD }), 401, 'AUTH_INVALID_CREDENTIALS');
    const again = await bearerLogin('admin', ADMIN_OWN_PASSWORD);
    expect(again.res.body.mustChangePassword).toBeUndefined();
    admin = again.http;
    expect((await admin.get('/api/v1/me')).body.mustChangePassword).toBe(false);
    expect((await admin.get('/api/v1/users')).status).toBe(200);
  });

  it('a user an admin created must change the password at first login, in the browser session too; the admin sees who has not yet', async () => {
    const created = await admin.post('/api/v1/users', { username: 'pw-erin', password: 'erin-initial-password', displayName: 'Erin', roles: ['operator', 'requester'] });
    expect(created.status).toBe(201);
    const listed = async () => ((await admin.get('/api/v1/users')).body.users as { username: string; mustChangePassword: boolean }[]).find((u) => u.username === 'pw-erin');
    expect(await listed()).toMatchObject({ mustChangePassword: true });
    const web = await anonymous.post('/api/v1/auth/login', { username: 'pw-erin', password: 'erin-initial-password' }, { 'x-qg-session': 'cookie' });
    expect(web.body).toEqual({ tokenType: 'Cookie', expiresIn: 3600, mustChangePassword: true });
    const cookie = { cookie: (web.headers.get('set-cookie') ?? '').split(';')[0] ?? '' };
    expectProblem(await anonymous.get('/api/v1/requests', cookie), 403, 'PASSWORD_CHANGE_REQUIRED');
    const { http } = await bearerLogin('pw-erin', 'erin-initial-password');
    await expectOnlyPasswordChangeAllowed(http);
    // Logout still works (it revokes both sessions).
    expect((await http.post('/api/v1/auth/logout')).status).toBe(204);
    expect((await anonymous.get('/api/v1/me', cookie)).status).toBe(401);
    const second = await bearerLogin('pw-erin', 'erin-initial-password');
    expect((await second.http.put('/api/v1/me/password', { currentPassword: 'erin-initial-password', newPassword: 'erins-own-password-7' })).status).toBe(204);
    expectProblem(await anonymous.post('/api/v1/auth/login', { username: 'pw-erin', password: 'erin-initial-password' }), 401, 'AUTH_INVALID_CREDENTIALS');
    const erin = await bearerLogin('pw-erin', 'erins-own-password-7');
    expect(erin.res.body.mustChangePassword).toBeUndefined();
    expect((await erin.http.get('/api/v1/requests')).status).toBe(200);
    expect(await listed()).toMatchObject({ mustChangePassword: false });
  });

  it('a change with a wrong current password is refused and changes nothing', async () => {
    const frank = await createUser(admin, 'pw-frank', ['requester']);
    expectProblem(await frank.http.put('/api/v1/me/password', { currentPassword: 'a-wrong-password', newPassword: 'franks-next-password' }), 401, 'AUTH_INVALID_CREDENTIALS');
    expect((await frank.http.get('/api/v1/requests')).status).toBe(200);
    expectProblem(await anonymous.post('/api/v1/auth/login', { username: 'pw-frank', password: 'franks-next-password' }), 401, 'AUTH_INVALID_CREDENTIALS');
    expect((await bearerLogin('pw-frank', frank.password)).res.body.mustChangePassword).toBeUndefined();
  });

  it('an admin reset sets a password the user must change, ends every session of theirs, and is audited without the password', async () => {
    const gina = await createUser(admin, 'pw-gina', ['operator']);
    const web = await anonymous.post('/api/v1/auth/login', { username: 'pw-gina', password: gina.password }, { 'x-qg-session': 'cookie' });
    const cookie = { cookie: (web.headers.get('set-cookie') ?? '').split(';')[0] ?? '' };
    expect((await anonymous.get('/api/v1/me', cookie)).status).toBe(200);
    const reset = await admin.put(`/api/v1/users/${gina.id}/password`, { password: 'gina-temporary-password' });
    expect(reset.status).toBe(204);
    // Both of her sessions died with the reset; her own password no longer works.
    expect((await gina.http.get('/api/v1/me')).status).toBe(401);
    expect((await anonymous.get('/api/v1/me', cookie)).status).toBe(401);
    expectProblem(await anonymous.post('/api/v1/auth/login', { username: 'pw-gina', password: gina.password }), 401, 'AUTH_INVALID_CREDENTIALS');
    const temporary = await bearerLogin('pw-gina', 'gina-temporary-password');
    expect(temporary.res.body.mustChangePassword).toBe(true);
    await expectOnlyPasswordChangeAllowed(temporary.http);
    expect((await temporary.http.put('/api/v1/me/password', { currentPassword: 'gina-temporary-password', newPassword: 'ginas-new-own-password' })).status).toBe(204);
    expect((await (await bearerLogin('pw-gina', 'ginas-new-own-password')).http.get('/api/v1/requests')).status).toBe(200);
    const adminId = (await admin.get('/api/v1/me')).body.id as string;
    const entries = await auditEntries();
    const audited = entries.filter((e) => e.action === 'user.password_reset');
    expect(audited).toEqual([expect.objectContaining({ actor: `user:${adminId}`, subject: `user:${gina.id}`, data: { username: 'pw-gina' } })]);
    expect(JSON.stringify(entries)).not.toContain('gina-temporary-password');
  });

  it('refuses a reset to non-admins, of the admin’s own account, of nobody, and a short password, changing nothing', async () => {
    const hank = await createUser(admin, 'pw-hank', ['security_lead', 'auditor']);
    const target = await createUser(admin, 'pw-ida', ['requester']);
    expectProblem(await hank.http.put(`/api/v1/users/${target.id}/password`, { password: 'hanks-choice-for-ida' }), 403, 'FORBIDDEN');
    expectProblem(await target.http.put(`/api/v1/users/${target.id}/password`, { password: 'idas-own-bypass-try' }), 403, 'FORBIDDEN');
    const adminId = (await admin.get('/api/v1/me')).body.id as string;
    expectProblem(await admin.put(`/api/v1/users/${adminId}/password`, { password: 'a-stolen-session-try' }), 409, 'CONFLICT');
    expectProblem(await admin.put('/api/v1/users/00000000-0000-4000-8000-000000000000/password', { password: 'nobody-at-all-1234' }), 404, 'NOT_FOUND');
    expectProblem(await admin.put('/api/v1/users/not-an-id/password', { password: 'nobody-at-all-1234' }), 404, 'NOT_FOUND');
    expectProblem(await admin.put(`/api/v1/users/${target.id}/password`, { password: 'short' }), 400, 'VALIDATION_FAILED');
    expectProblem(await admin.put(`/api/v1/users/${target.id}/password`, {}), 400, 'VALIDATION_FAILED');
    // Still the same sessions and passwords.
    expect((await target.http.get('/api/v1/requests')).status).toBe(200);
    expect((await admin.get('/api/v1/users')).status).toBe(200);
    expect((await bearerLogin('pw-ida', target.password)).res.body.mustChangePassword).toBeUndefined();
  });

  it('leaves service accounts alone', async () => {
    const account = await admin.post('/api/v1/service-accounts', { name: 'pw-ci', roles: ['requester'] });
    const bot = anonymous.as(account.body.token as string);
    expect((await bot.get('/api/v1/me')).body).toMatchObject({ kind: 'service_account', mustChangePassword: false });
    expect((await bot.get('/api/v1/requests')).status).toBe(200);
    expectProblem(await bot.put('/api/v1/me/password', { currentPassword: 'whatever-it-is', newPassword: 'whatever-it-becomes' }), 403, 'FORBIDDEN');
  });

  it('the database refuses the flag on an account without a password', async () => {
    await expect(gateway.ctx.dataSource.query(`UPDATE users SET password_hash = NULL, oidc_issuer = 'https://idp.example', oidc_subject = 'x', must_change_password = true WHERE username = 'pw-frank'`)).rejects.toThrow(
      /users_must_change_password_needs_password/,
    );
  });
});

describe.each(testDatabaseKinds())('passwords: single sign-on users are never forced (%s database)', (kind) => {
  let provider: TestProvider;
  let gateway: TestGateway;

  beforeAll(async () => {
    const port = await freePort();
    provider = await startTestProvider(`http://127.0.0.1:${port}/api/v1/auth/oidc/callback`);
    gateway = await startTestGateway(kind, {
      port,
      publicUrl: `http://127.0.0.1:${port}`,
      oidc: { issuer: provider.issuer, name: 'Test IdP', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scopes: 'openid profile email', rolesClaim: 'groups', roleMap: parseRoleMap('sre=operator') },
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await provider?.close();
  });

  it('an SSO user created at first sign-in is not asked for a password change, and an admin cannot reset one', async () => {
    provider.accounts.set('olga', { preferred_username: 'olga', name: 'Olga', groups: ['sre'] });
    const jar = new CookieJar();
    expect((await browse(jar, await signInAtProvider(jar, gateway.url, 'olga'))).status).toBe(303);
    const web = new Http(gateway.url);
    const cookie = { cookie: `__Host-qg_session=${jar.get(gateway.url, '__Host-qg_session') ?? ''}` };
    const me = await web.get('/api/v1/me', cookie);
    expect(me.body).toMatchObject({ username: 'olga', signIn: 'sso', mustChangePassword: false });
    expect((await web.get('/api/v1/requests', cookie)).status).toBe(200);
    const admin = await web.login('admin', ADMIN_PASSWORD);
    const reset = await admin.put(`/api/v1/users/${me.body.id}/password`, { password: 'olga-should-not-get-one' });
    expect({ status: reset.status, code: reset.body.code }).toEqual({ status: 409, code: 'CONFLICT' });
    expect((await web.get('/api/v1/requests', cookie)).status).toBe(200);
  });
});
