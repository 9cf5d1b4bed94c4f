/**
 * Single sign-on in a real Chromium: the login page offers "Sign in with <issuer>",
 * the provider's own login page (node-oidc-provider) signs the person in, and the
 * browser comes back to the UI signed in. Build the UI first: `npm run build:web`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { parseRoleMap } from '../../apps/gateway/src/config/config.js';
import { Http } from '../support/http.js';
import { CLIENT_ID, CLIENT_SECRET, freePort, startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../support/test-gateway.js';

const CHROMIUM = process.env.QG_CHROMIUM ?? '/usr/bin/chromium';
const WEB_DIST = resolve(process.cwd(), 'apps/web/dist/index.html');
const browserMissing = !existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';

if (browserMissing && !inCi) {
  process.stdout.write(`browser tests skipped: ${CHROMIUM} not found (apt-get install chromium)\n`);
}

(browserMissing ? (inCi ? describe : describe.skip) : describe)('single sign-on in Chromium', () => {
  let provider: TestProvider;
  let gateway: TestGateway;
  let browser: Browser;

  beforeAll(async () => {
    if (browserMissing) throw new Error(`CI=true and ${CHROMIUM} is missing: the browser tests cannot run (install the chromium package)`);
    if (!existsSync(WEB_DIST)) throw new Error('the web UI is not built: run `npm run build:web` first (npm test does it)');
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    provider = await startTestProvider(`${publicUrl}/api/v1/auth/oidc/callback`);
    gateway = await startTestGateway('embedded', {
      port,
      publicUrl,
      passwordLogin: false,
      oidc: {
        issuer: provider.issuer,
        name: 'Acme Login',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        scopes: 'openid profile email',
        rolesClaim: 'groups',
        roleMap: parseRoleMap('sre=operator'),
      },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await provider?.close();
  });

  it('signs in through the provider’s login page and comes back signed in, with the mapped role', async () => {
    provider.accounts.set('olivia', { preferred_username: 'olivia', name: 'Olivia Operator', email: 'olivia@example.com', groups: ['sre'] });
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await page.goto(`${gateway.url}/`);
      // Password login is off: the form is folded away for the bootstrap admin.
      await page.getByText('Administrator sign-in with a password').waitFor();
      expect(await page.getByLabel('Username').isVisible()).toBe(false);
      await page.getByRole('link', { name: 'Sign in with Acme Login' }).click();

      await page.waitForURL((url) => url.href.startsWith(provider.issuer));
      await page.locator('input[name="login"]').fill('olivia');
      await page.locator('input[name="password"]').fill('any-password');
      await page.locator('button[type="submit"]').click();

      await page.waitForURL((url) => url.href.startsWith(gateway.url));
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await page.getByText('Olivia Operator').first().waitFor();
      await page.getByRole('link', { name: 'Inbox' }).waitFor();

      // A custodian signed in by SSO enrols keys with no password: the fresh sign-in stands in for it.
      await page.getByRole('link', { name: 'My keys' }).click();
      await page.getByTestId('enrol-fresh-sign-in').waitFor();
      expect(await page.getByTestId('enrol-current-password').count()).toBe(0);
      await page.getByLabel(/Make an encrypted backup/).uncheck();
      await page.getByRole('button', { name: 'Create and enrol keys' }).click();
      await page.locator('[data-testid="key-state"][data-state="ok"]').waitFor();
    } finally {
      await context.close();
    }
    const admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    const users = (await admin.get('/api/v1/users')).body.users as { username: string; roles: string[] }[];
    expect(users.find((u) => u.username === 'olivia')).toMatchObject({ roles: ['operator'], keysEnrolled: true });
  }, 60_000);

  it('shows why a refused sign-in came back, on the login page', async () => {
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      // A callback this browser never started: the gateway sends it back with the reason.
      await page.goto(`${gateway.url}/api/v1/auth/oidc/callback?code=stolen&state=whatever`);
      await page.getByRole('alert').getByText('did not start in this browser').waitFor();
      expect(new URL(page.url()).search).toBe('');
    } finally {
      await context.close();
    }
  }, 60_000);
});
