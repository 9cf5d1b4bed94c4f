/**
 * The notification pages in a real Chromium against a real gateway (embedded
 * database): an admin sets up a webhook channel and tests it, a user chooses their
 * email events. Build the UI first: `npm run build:web`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Http } from '../support/http.js';
import { createUser } from '../support/quorum.js';
import { HttpReceiver, waitUntil } from '../support/receivers.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../support/test-gateway.js';

const CHROMIUM = process.env.QG_CHROMIUM ?? '/usr/bin/chromium';
const WEB_DIST = resolve(process.cwd(), 'apps/web/dist/index.html');
const browserMissing = !existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';

(browserMissing ? (inCi ? describe : describe.skip) : describe)('the notification pages in Chromium', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let receiver: HttpReceiver;
  let admin: Http;

  async function signedIn(username: string, password: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-GB', timezoneId: 'UTC' });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${gateway.url}/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  beforeAll(async () => {
    if (browserMissing) throw new Error(`CI=true and ${CHROMIUM} is missing`);
    if (!existsSync(WEB_DIST)) throw new Error('the web UI is not built: run `npm run build:web` first');
    receiver = await new HttpReceiver().start();
    gateway = await startTestGateway('embedded');
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await receiver?.stop();
  });

  it('an admin creates a webhook channel, copies its secret once, tests it and sees the delivery', async () => {
    const page = await signedIn('admin', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    const form = page.getByTestId('channel-form');
    await form.getByLabel('Name').fill('ui-hook');
    await form.getByLabel('Kind').selectOption('webhook');
    await form.getByLabel('Webhook URL').fill(`${receiver.url}/ui`);
    await form.getByRole('checkbox', { name: 'audit.entry' }).waitFor();
    await form.getByRole('button', { name: 'Create channel' }).click();
    const secret = (await page.getByTestId('signing-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByTestId('signing-secret-once').waitFor({ state: 'detached' });

    const row = page.locator('tr[data-testid="channel-row"][data-name="ui-hook"]');
    await expect(row.textContent()).resolves.toContain(`${receiver.url}/ui`);
    expect(JSON.stringify((await admin.get('/api/v1/notification-channels')).body)).not.toContain(secret);

    await row.getByRole('button', { name: 'Test' }).click();
    await waitUntil(() => receiver.on('/ui').length === 1, 'the test webhook');
    expect(receiver.verified('/ui', secret)[0]).toMatchObject({ type: 'notification.test' });
    await waitUntil(async () => (await admin.get(`/api/v1/notification-channels/${(await admin.get('/api/v1/notification-channels')).body.channels[0].id}/deliveries`)).body.deliveries[0]?.status === 'delivered', 'the delivery to be recorded');
    await row.getByRole('button', { name: 'Deliveries' }).click();
    await page.locator('tr[data-testid="delivery-row"][data-status="delivered"]').waitFor();

    // A Slack channel offers no audit stream; deleting asks first.
    await form.getByLabel('Kind').selectOption('slack');
    expect(await form.getByRole('checkbox', { name: 'audit.entry' }).count()).toBe(0);
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('channel-confirm').getByRole('button', { name: 'Delete ui-hook' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await admin.get('/api/v1/notification-channels')).body.channels).toEqual([]);
  }, 60_000);

  it('a user sets their address and turns an event off; the gateway keeps both', async () => {
    const user = await createUser(admin, 'nora', ['operator']);
    const page = await signedIn('nora', user.password);
    await page.getByRole('link', { name: 'My notifications' }).click();
    const form = page.getByTestId('my-notifications-form');
    await form.getByLabel('Email address').fill('nora@example.test');
    await form.getByRole('checkbox', { name: 'Reminders', exact: false }).uncheck();
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const prefs = (await user.http.get('/api/v1/me/notifications')).body;
    expect(prefs).toMatchObject({ email: 'nora@example.test', events: { 'request.reminder': false, 'request.pending': true } });
    // Only admins see the channels page.
    expect(await page.getByRole('link', { name: 'Notifications', exact: true }).count()).toBe(0);
  }, 60_000);
});
