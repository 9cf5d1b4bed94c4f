/**
 * Issue 19 item 2 in a real Chromium: the first-login password change, the change from
 * the user menu, and an admin's reset from the users page, each seen by a second
 * browser or the API the way the other person would. Build the UI first: `npm run build:web`.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Http } from '../support/http.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../support/test-gateway.js';

const CHROMIUM = process.env.QG_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.QG_UPDATE_SCREENSHOTS === '1' ? resolve(process.cwd(), 'docs/screenshots') : join(tmpdir(), 'quorumgate-screenshots');
const WEB_DIST = resolve(process.cwd(), 'apps/web/dist/index.html');
const browserMissing = !existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';

(browserMissing ? (inCi ? describe : describe.skip) : describe)('passwords in the web UI (Chromium)', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let admin: Http;
  let anonymous: Http;
  const contexts: BrowserContext[] = [];
  let ninaId = '';

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'UTC' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    return page;
  }

  async function submitLogin(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${gateway.url}/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function loginStatus(username: string, password: string): Promise<{ status: number; mustChangePassword: unknown }> {
    const res = await anonymous.post('/api/v1/auth/login', { username, password });
    return { status: res.status, mustChangePassword: res.body?.mustChangePassword };
  }

  beforeAll(async () => {
    if (browserMissing) throw new Error(`CI=true and ${CHROMIUM} is missing: the browser tests cannot run (install the chromium package)`);
    if (!existsSync(WEB_DIST)) throw new Error('the web UI is not built: run `npm run build:web` first (npm test does it)');
    gateway = await startTestGateway('embedded');
    anonymous = new Http(gateway.url);
    admin = await anonymous.login('admin', ADMIN_PASSWORD);
    const nina = await admin.post('/api/v1/users', { username: 'nina', password: 'nina-initial-password', displayName: 'Nina Newcomer', roles: ['requester'] });
    expect(nina.status).toBe(201);
    ninaId = nina.body.id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gateway?.close();
  });

  it('first login: a user an admin created must choose their own password before any page, then lands in the app', async () => {
    const page = await newPage();
    await submitLogin(page, 'nina', 'nina-initial-password');
    const forced = page.getByTestId('forced-password-change');
    await forced.waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'first-login-password.png') });

    // What the form refuses, it says how to fix; the server refuses a wrong current password.
    await page.getByLabel('Current password').fill('nina-initial-password');
    await page.locator('input[name="newPassword"]').fill('nina-initial-password');
    await page.getByLabel('New password again').fill('nina-initial-password');
    await page.getByRole('button', { name: 'Set my password and continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'differs from the current one' }).waitFor();
    await page.locator('input[name="newPassword"]').fill('ninas-very-own-password');
    await page.getByLabel('New password again').fill('ninas-very-own-passwort');
    await page.getByRole('button', { name: 'Set my password and continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'type the same one twice' }).waitFor();
    await page.getByLabel('Current password').fill('not-ninas-password');
    await page.getByLabel('New password again').fill('ninas-very-own-password');
    await page.getByRole('button', { name: 'Set my password and continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'The current password is wrong.' }).waitFor();
    expect(await loginStatus('nina', 'nina-initial-password')).toEqual({ status: 200, mustChangePassword: true });

    await page.getByLabel('Current password').fill('nina-initial-password');
    await page.getByRole('button', { name: 'Set my password and continue' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests' }).waitFor();
    expect(await forced.count()).toBe(0);
    expect(await loginStatus('nina', 'nina-initial-password')).toEqual({ status: 401, mustChangePassword: undefined });
    expect(await loginStatus('nina', 'ninas-very-own-password')).toEqual({ status: 200, mustChangePassword: undefined });
    // A reload keeps her signed in: the form signed in again with the new password.
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await forced.count()).toBe(0);
  });

  it('changes the password from the user menu, which signs out every other session', async () => {
    const other = await anonymous.login('nina', 'ninas-very-own-password');
    const page = await newPage();
    await submitLogin(page, 'nina', 'ninas-very-own-password');
    await page.getByRole('link', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Change password' }).waitFor();
    await page.getByLabel('Current password').fill('ninas-very-own-password');
    await page.locator('input[name="newPassword"]').fill('ninas-second-password');
    await page.getByLabel('New password again').fill('ninas-second-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByTestId('password-changed').waitFor();
    expect((await other.get('/api/v1/me')).status).toBe(401);
    await page.getByRole('link', { name: 'Requests' }).first().click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await loginStatus('nina', 'ninas-second-password')).toEqual({ status: 200, mustChangePassword: undefined });
  });

  it('an admin resets a password on the users page: the user’s browser session ends and the next sign-in asks for a new password', async () => {
    const ninaPage = await newPage();
    await submitLogin(ninaPage, 'nina', 'ninas-second-password');
    await ninaPage.getByRole('button', { name: 'Sign out' }).waitFor();

    const adminPage = await newPage();
    await submitLogin(adminPage, 'admin', ADMIN_PASSWORD);
    await adminPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    const row = adminPage.locator('[data-testid="user-row"][data-username="nina"]');
    await row.getByRole('button', { name: 'Reset password' }).click();
    // No reset of one's own password here: that needs the current one (Change password).
    expect(await adminPage.locator('[data-testid="user-row"][data-username="admin"]').getByRole('button', { name: 'Reset password' }).count()).toBe(0);
    await adminPage.getByLabel('Temporary password').fill('nina-temporary-password');
    await adminPage.getByRole('button', { name: 'Reset password of nina' }).click();
    await adminPage.getByTestId('users-notice').filter({ hasText: 'must choose a new password' }).waitFor();
    await row.getByText('password change pending').waitFor();

    // Nina's open page loses its session at its next call.
    await ninaPage.getByRole('link', { name: 'Requests' }).first().click();
    await ninaPage.reload();
    await ninaPage.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await loginStatus('nina', 'ninas-second-password')).toEqual({ status: 401, mustChangePassword: undefined });
    await submitLogin(ninaPage, 'nina', 'nina-temporary-password');
    await ninaPage.getByTestId('forced-password-change').waitFor();

    const audit = await admin.get('/api/v1/audit?limit=1000');
    expect(audit.status).toBe(200);
    const adminId = (await admin.get('/api/v1/me')).body.id as string;
    expect((audit.body.entries as { action: string; actor: string; subject: string }[]).filter((e) => e.action === 'user.password_reset')).toEqual([
      expect.objectContaining({ actor: `user:${adminId}`, subject: `user:${ninaId}` }),
    ]);
  });
});
