/**
 * Issue 19 items 3 and 4 in a real Chromium: a security lead picks a service account by
 * name in the policy form; the credential page shows the public key (JWK and PEM, copied
 * to the clipboard) and its custodians by name; the policy page says what the policy
 * does, and refuses to delete it while a request under it is pending. Build the UI first
 * (`npm run build:web`).
 */
import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Http } from '../support/http.js';
import { createOperator, createUser, signRequestBody, type Operator } from '../support/quorum.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../support/test-gateway.js';

const CHROMIUM = process.env.QG_CHROMIUM ?? '/usr/bin/chromium';
const WEB_DIST = resolve(process.cwd(), 'apps/web/dist/index.html');
const browserMissing = !existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
/** An id prefix as the UI used to print it for names it did not know: 8 hex digits and an ellipsis. */
const ID_PREFIX = /\b[0-9a-f]{8}…/;

(browserMissing ? (inCi ? describe : describe.skip) : describe)('credential and policy pages in Chromium', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let admin: Http;
  let lead: { id: string; http: Http; password: string };
  let operators: Operator[];
  let bot: { id: string; http: Http };
  let credential: { id: string; name: string; publicJwk: Record<string, string>; custodyPolicyId?: string };
  let policyId: string;

  beforeAll(async () => {
    if (browserMissing) throw new Error(`CI=true and ${CHROMIUM} is missing`);
    if (!existsSync(WEB_DIST)) throw new Error('the web UI is not built: run `npm run build:web` first');
    gateway = await startTestGateway('embedded');
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    lead = await createUser(admin, 'lena', ['security_lead']);
    operators = [await createOperator(admin, 'olga'), await createOperator(admin, 'oscar')];
    // Several accounts, so that picking one needs the search.
    for (const name of ['deploy-staging', 'backup-runner']) expect((await admin.post('/api/v1/service-accounts', { name, roles: ['requester'] })).status).toBe(201);
    const account = await admin.post('/api/v1/service-accounts', { name: 'deploy-bot', roles: ['requester'] });
    expect(account.status).toBe(201);
    bot = { id: account.body.id, http: new Http(gateway.url).as(account.body.token) };
    const created = await lead.http.post('/api/v1/credentials', { name: 'release-key', kind: 'signing-key', generate: { alg: 'ES256' }, custodians: operators.map((o) => o.id), threshold: 2 });
    expect(created.status).toBe(201);
    credential = created.body;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gateway.url });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${gateway.url}/`);
    await page.getByLabel('Username').fill('lena');
    await page.getByLabel('Password').fill(lead.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await gateway?.close();
  });

  it('a security lead picks a service account by name in the policy form; the policy holds its id', async () => {
    await page.getByRole('link', { name: 'Policies' }).click();
    const form = page.getByTestId('policy-form');
    await form.getByLabel('Name', { exact: true }).fill('bot-release');
    await form.getByRole('checkbox', { name: 'requester', exact: true }).uncheck();
    const picker = form.getByTestId('requester-service-accounts');
    await picker.getByLabel('Service accounts (optional)').fill('DEPLOY');
    // both deploy-* accounts match; backup-runner does not (the search answers after a pause in typing)
    await picker.getByRole('button', { name: 'Add deploy-staging' }).waitFor();
    await expect(picker.getByTestId('pick').allTextContents()).resolves.toEqual(['Add deploy-bot', 'Add deploy-staging']);
    await picker.getByRole('button', { name: 'Add deploy-bot' }).click();
    await expect(picker.getByTestId('picked').textContent()).resolves.toContain('deploy-bot');
    await form.getByRole('button', { name: 'Create policy' }).click();
    await page.getByText('Policy bot-release created').waitFor();

    const policies = (await lead.http.get('/api/v1/policies')).body.policies as { id: string; name: string; requesters: { roles: string[]; serviceAccounts: string[] } }[];
    const policy = policies.find((p) => p.name === 'bot-release');
    expect(policy?.requesters).toMatchObject({ roles: [], serviceAccounts: [bot.id] });
    policyId = policy!.id;
    // the list names the account, never an id prefix
    const row = page.getByTestId('policies-table').getByRole('row', { name: /bot-release/ });
    await expect(row.textContent()).resolves.toContain('deploy-bot (service account)');
    expect(await page.getByTestId('policies-table').textContent()).not.toMatch(ID_PREFIX);
    // and the form is empty again
    await expect(picker.getByTestId('picked').count()).resolves.toBe(0);
  });

  it('the credential page shows the public key as JWK and PEM with working copy buttons, and the custodians by name', async () => {
    await page.getByRole('link', { name: 'Credentials' }).click();
    await page.getByTestId('credentials-table').getByRole('link', { name: 'release-key' }).click();
    await page.getByTestId('credential-page').waitFor();
    await expect(page.getByTestId('credential-kind').textContent()).resolves.toBe('signing-key');
    expect(JSON.parse((await page.getByTestId('public-jwk').textContent()) ?? '')).toEqual(credential.publicJwk);
    const { kid: _kid, ...jwk } = credential.publicJwk;
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    await page.getByTestId('public-pem').waitFor();
    expect(await page.getByTestId('public-pem').textContent()).toBe(pem);

    await page.getByRole('button', { name: 'Copy PEM' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(pem);
    await page.getByRole('button', { name: 'Copy JWK' }).click();
    expect(JSON.parse(await page.evaluate(() => navigator.clipboard.readText()))).toEqual(credential.publicJwk);

    await page.getByText('How to verify a signature').click();
    await expect(page.getByTestId('verify-openssl').textContent()).resolves.toContain('openssl dgst -sha256 -verify release-key.pem');
    await expect(page.getByTestId('verify-openssl').textContent()).resolves.toContain('--format der');

    const custodians = (await page.getByTestId('credential-custodians').textContent()) ?? '';
    expect(custodians).toContain('olga');
    expect(custodians).toContain('oscar');
    expect(custodians).not.toMatch(ID_PREFIX);
    await expect(page.getByTestId('credential-policies').textContent()).resolves.toContain('bot-release');
    // The version history from the audit log: version 1, created, with its sharing structure.
    await page.getByRole('heading', { name: 'Versions' }).waitFor();
    const versions = (await page.getByTestId('versions').textContent()) ?? '';
    expect(versions).toContain('created');
    expect(versions).toMatch(/custodians: 2 of \d/);
    expect(await page.locator('[data-testid="credential-page"]').textContent()).not.toMatch(ID_PREFIX);
  });

  it('the policy page says what the policy allows and who approves; deleting is refused while a request is pending', async () => {
    const submitted = await bot.http.post('/api/v1/requests', signRequestBody(credential.id));
    expect(submitted.status).toBe(201);
    expect(submitted.body.policyId).toBe(policyId);

    await page.getByTestId('credential-policies').getByRole('link', { name: 'bot-release' }).click();
    await page.getByTestId('policy-page').waitFor();
    await expect(page.getByTestId('policy-credential').textContent()).resolves.toContain('release-key');
    await expect(page.getByTestId('policy-operations').textContent()).resolves.toContain('sign');
    await expect(page.getByTestId('policy-requesters').textContent()).resolves.toContain('deploy-bot');
    await expect(page.getByTestId('approval-rule').textContent()).resolves.toContain('At least 2');
    const approvers = (await page.getByTestId('policy-custodians').textContent()) ?? '';
    expect(approvers).toContain('olga');
    expect(approvers).toContain('oscar');
    expect(await page.getByTestId('policy-page').textContent()).not.toMatch(ID_PREFIX);

    await page.getByRole('button', { name: 'Delete this policy' }).click();
    await page.getByRole('button', { name: 'Delete bot-release' }).click();
    const refusal = page.getByTestId('delete-policy').getByRole('alert');
    await refusal.waitFor();
    await expect(refusal.textContent()).resolves.toContain('cannot be deleted yet');
    expect((await lead.http.get(`/api/v1/policies/${policyId}`)).status).toBe(200);

    expect((await bot.http.post(`/api/v1/requests/${submitted.body.id}/cancel`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete bot-release' }).click();
    await page.waitForURL(`${gateway.url}/policies`);
    expect((await lead.http.get(`/api/v1/policies/${policyId}`)).status).toBe(404);
    await page.getByTestId('policies-table').or(page.getByText('No policies yet')).first().waitFor();
    expect(await page.locator('main').textContent()).not.toContain('bot-release');

    // The credential's custody policy (spec §4a) is shown with its approvals editable, and can never be deleted.
    expect(credential.custodyPolicyId).toEqual(expect.any(String));
    await page.goto(`${gateway.url}/policies/${credential.custodyPolicyId as string}`);
    await page.getByTestId('policy-page').waitFor();
    await expect(page.getByTestId('policy-operations').textContent()).resolves.toContain('credential.reshare');
    await page.getByText('custody policy: re-shares and rotations go through it').waitFor();
    await page.getByLabel(/Approvals required/).waitFor();
    expect(await page.getByRole('button', { name: 'Delete this policy' }).count()).toBe(0);
    expect((await lead.http.request('DELETE', `/api/v1/policies/${credential.custodyPolicyId as string}`)).status).toBe(409);
  });
});
