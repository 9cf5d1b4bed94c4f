/**
 * Custody in a real Chromium against a real gateway (embedded database), issue 16
 * items 3, 7 and 8: a custodian re-enrols (lost key), the security lead sees the margin
 * warning and the lost share, opens the re-share form from the warning, sees the review
 * the approvers will see (with a weakening warning), submits it, and two custodians,
 * each in their own browser, see the old → new structure above the decision panel.
 * Build the UI first: `npm run build:web`.
 *
 * Submitting a `credential.reshare` needs the custody-versions server part (the kind,
 * and security leads allowed to submit custody requests): the tests marked
 * "after custody-versions" wait for it.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { exportPublicJwks, fingerprint, generateCustodianKeys } from '../../libs/custodian/index.js';
import { Http } from '../support/http.js';
import { createOperator, createUser, type Operator } from '../support/quorum.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../support/test-gateway.js';

const CHROMIUM = process.env.QG_CHROMIUM ?? '/usr/bin/chromium';
const WEB_DIST = resolve(process.cwd(), 'apps/web/dist/index.html');
const browserMissing = !existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';

(browserMissing ? (inCi ? describe : describe.skip) : describe)('custody in Chromium: margin warning, re-share form, review', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let admin: Http;
  let lead: { id: string; http: Http; password: string };
  let ops: Operator[];
  let credential: { id: string; name: string; version: number };
  let oldKid: string;
  let newKid: string;

  async function signedIn(username: string, password: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${gateway.url}/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  async function credentialsPage(): Promise<Page> {
    const page = await signedIn('cu-lead', lead.password);
    await page.getByRole('link', { name: 'Credentials', exact: true }).click();
    await page.getByRole('heading', { name: 'Credentials', exact: true }).waitFor();
    return page;
  }

  /** The lead opens the re-share form from the margin warning and makes it weaker: threshold 1, dave in, the first custodian out. */
  async function weakeningReshare(page: Page) {
    const row = page.locator('[data-testid="credentials-table"] tr', { hasText: credential.name });
    await row.getByTestId('reshare-now').click();
    const form = page.getByTestId('reshare-form');
    await form.waitFor();
    await form.locator('input[name="reshare-custodian"][value="cu-op1"]').uncheck();
    await form.locator('input[name="reshare-custodian"][value="cu-dave"]').check();
    await form.getByLabel('Threshold (k)').fill('1');
    await form.getByLabel('Reason').fill('cu-op1 lost her laptop; dave takes over');
    return form;
  }

  beforeAll(async () => {
    if (browserMissing) throw new Error(`CI=true and ${CHROMIUM} is missing`);
    if (!existsSync(WEB_DIST)) throw new Error('the web UI is not built: run `npm run build:web` first');
    gateway = await startTestGateway('embedded');
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    lead = await createUser(admin, 'cu-lead', ['security_lead']);
    ops = [await createOperator(admin, 'cu-op1'), await createOperator(admin, 'cu-op2'), await createOperator(admin, 'cu-op3'), await createOperator(admin, 'cu-dave')];
    const created = await lead.http.post('/api/v1/credentials', { name: 'cu-release-key', kind: 'signing-key', generate: { alg: 'ES256' }, custodians: ops.slice(0, 3).map((o) => o.id), threshold: 2 });
    expect(created.status).toBe(201);
    credential = created.body;
    // cu-op1 lost her keys and enrols new ones (with her password): her share is now unopenable.
    oldKid = (await ops[0]!.http.get('/api/v1/me')).body.keys.encryptionThumbprint;
    const fresh = await exportPublicJwks(await generateCustodianKeys());
    newKid = fresh.encryptionThumbprint;
    const enrolled = await ops[0]!.http.put('/api/v1/me/keys', { encryptionKey: fresh.encryptionKey, signingKey: fresh.signingKey, currentPassword: 'cu-op1-password-for-tests' });
    expect(enrolled.status).toBe(200);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'] });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('shows the margin warning and the lost share, and the re-share form previews the review with the weakening warned', async () => {
    const page = await credentialsPage();
    const margin = page.locator('[data-testid="credentials-table"] tr', { hasText: credential.name }).getByTestId('margin');
    await expect(margin.getAttribute('data-margin')).resolves.toBe('0');
    await expect(margin.textContent()).resolves.toContain('one more departure loses this credential: re-share now');
    await expect(margin.textContent()).resolves.toContain('cu-op1 (keys changed)');

    const affected = page.locator('[data-testid="affected-credential"][data-credential="cu-release-key"]');
    await expect(affected.textContent()).resolves.toContain('cu-op1 (keys_changed)');
    await page.getByTestId('reshare-all-affected').waitFor();

    // Opened from the warning: the same people and threshold, cu-op1's share going to her new key; nothing weakens.
    await page.locator('[data-testid="credentials-table"] tr', { hasText: credential.name }).getByTestId('reshare-now').click();
    const form = page.getByTestId('reshare-form');
    const preview = form.getByTestId('reshare-preview');
    await preview.getByTestId('custody-groups').waitFor();
    await expect(preview.getByTestId('custody-old').textContent()).resolves.toBe('2 of 3');
    await expect(preview.getByTestId('custody-new').textContent()).resolves.toBe('2 of 3');
    await expect(preview.getByTestId('custody-kept').textContent()).resolves.toContain(`${fingerprint(oldKid)} → ${fingerprint(newKid)}`);
    expect(await preview.getByTestId('custody-warnings').count()).toBe(0);
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'detached' });

    // Weaker: threshold 1, so anyone alone meets it; the warning is loud before anything is submitted.
    const weaker = await weakeningReshare(page);
    const warnings = weaker.getByTestId('reshare-preview').getByTestId('custody-warnings');
    await warnings.waitFor();
    expect(await warnings.getAttribute('role')).toBe('alert');
    const codes = await warnings.getByTestId('custody-warning').evaluateAll((items) => items.map((i) => i.getAttribute('data-code')));
    expect(codes).toEqual(expect.arrayContaining(['threshold_lowered', 'one_person_meets_group']));
    await expect(weaker.getByTestId('custody-added').textContent()).resolves.toContain('cu-dave');
    await expect(weaker.getByTestId('custody-removed').textContent()).resolves.toContain(`cu-op1 ${fingerprint(oldKid)}`);
    await page.context().close();
  }, 90_000);

  // after custody-versions: POST /requests accepts credential.reshare from a security lead.
  it('submits the weakening re-share, opens its request page, and two custodians each see old → new and the warning above the decision', async () => {
    const page = await credentialsPage();
    const form = await weakeningReshare(page);
    await form.getByRole('button', { name: 'Submit re-share request' }).click();
    await page.waitForURL(/\/requests\/[A-Za-z0-9-]+$/);
    const requestId = page.url().split('/').pop() ?? '';
    const request = (await lead.http.get(`/api/v1/requests/${requestId}`)).body;
    expect(request.digestInput.operation).toEqual({
      kind: 'credential.reshare',
      params: { sharing: { threshold: 1, custodians: [{ userId: ops[1]!.id, kid: expect.any(String) }, { userId: ops[2]!.id, kid: expect.any(String) }, { userId: ops[3]!.id, kid: expect.any(String) }] } },
    });
    await page.getByTestId('custody-review').getByTestId('custody-warnings').waitFor();
    await page.context().close();

    for (const op of [ops[1]!, ops[2]!]) {
      const mine = await signedIn(op.username, `${op.username}-password-for-tests`);
      await mine.goto(`${gateway.url}/requests/${requestId}`);
      const review = mine.getByTestId('custody-review');
      await review.waitFor();
      const group = review.locator('[data-testid="custody-group"][data-group="custodians"]');
      await expect(group.getByTestId('custody-old').textContent()).resolves.toBe('2 of 3');
      await expect(group.getByTestId('custody-new').textContent()).resolves.toBe('1 of 3');
      await expect(group.getByTestId('custody-added').textContent()).resolves.toContain('cu-dave');
      await expect(group.getByTestId('custody-removed').textContent()).resolves.toContain(`cu-op1 ${fingerprint(oldKid)}`);
      const codes = await review.getByTestId('custody-warning').evaluateAll((items) => items.map((i) => i.getAttribute('data-code')));
      expect(codes).toEqual(expect.arrayContaining(['threshold_lowered', 'one_person_meets_group']));
      // The review sits above the decision panel.
      const above = await mine.evaluate(() => {
        const r = document.querySelector('[data-testid="custody-review"]');
        const d = document.querySelector('section.decision') ?? document.querySelector('#op-title');
        return r !== null && d !== null && (r.compareDocumentPosition(d) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
      });
      expect(above).toBe(true);
      await mine.context().close();
    }
  }, 120_000);

  // after custody-versions: one reshare request per affected credential, each custodian's share to the key enrolled now.
  it('"re-share all affected" submits one request per credential, sealing cu-op1\'s share to her new key', async () => {
    const page = await credentialsPage();
    await page.getByTestId('reshare-all-affected').click();
    const link = page.getByTestId('affected-submitted').getByRole('link');
    await link.first().waitFor();
    const requestId = ((await link.first().getAttribute('href')) ?? '').split('/').pop() ?? '';
    const request = (await lead.http.get(`/api/v1/requests/${requestId}`)).body;
    expect(request.digestInput.operation.params.sharing).toMatchObject({ threshold: 2 });
    expect(request.digestInput.operation.params.sharing.custodians).toEqual(expect.arrayContaining([{ userId: ops[0]!.id, kid: newKid }]));
    await page.context().close();
  }, 90_000);
});
