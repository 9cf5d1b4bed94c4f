/**
 * The operator web UI in a real Chromium (playwright-core driving Debian's
 * /usr/bin/chromium) against a real gateway on an embedded database. Build
 * the UI first: `npm run build:web` (npm test does it).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { API_ROUTES } from '../../apps/web/src/api-routes.js';
import { canonicalJson } from '../../libs/crypto/index.js';
import { approveInBrowser } from '../support/browser-actions.js';
import { Http } from '../support/http.js';
import { createUser, generateSigningJwk, signRequestBody } from '../support/quorum.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../support/test-gateway.js';

// Debian's chromium package; QG_CHROMIUM points elsewhere (another distribution, a local build).
const CHROMIUM = process.env.QG_CHROMIUM ?? '/usr/bin/chromium';
// The README's screenshots change only when asked for; otherwise a test run leaves the checkout as it found it.
const SCREENSHOTS = process.env.QG_UPDATE_SCREENSHOTS === '1' ? resolve(process.cwd(), 'docs/screenshots') : join(tmpdir(), 'quorumgate-screenshots');
const WEB_DIST = resolve(process.cwd(), 'apps/web/dist/index.html');
const BACKUP_PASSPHRASE = 'correct horse battery staple';

const browserMissing = !existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';

if (browserMissing && !inCi) {
  process.stdout.write(`browser tests skipped: ${CHROMIUM} not found (apt-get install chromium)\n`);
}

async function verifyRawSignature(publicJwk: JsonWebKey, payloadB64u: string, signatureB64u: string): Promise<boolean> {
  const key = await crypto.subtle.importKey('jwk', publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(signatureB64u, 'base64url'), Buffer.from(payloadB64u, 'base64url'));
}

interface Person {
  id: string;
  username: string;
  password: string;
  http: Http;
}

(browserMissing ? (inCi ? describe : describe.skip) : describe)('the operator web UI in Chromium', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let admin: Http;
  let automation: Http;
  let automationId: string;
  const contexts: BrowserContext[] = [];
  const people: Record<'alice' | 'bob' | 'lead' | 'rita' | 'audrey', Person> = {} as never;
  const pages: Record<string, Page> = {};
  /** the public half of the release key the gateway generated (born split): no test ever holds its private half */
  let releasePublicJwk: Record<string, unknown>;
  let aliceBackup = '';

  async function newPage(viewport = { width: 1280, height: 860 }): Promise<Page> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'UTC' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return page;
  }

  async function signIn(page: Page, who: Person): Promise<void> {
    await page.goto(`${gateway.url}/`);
    await page.getByLabel('Username').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  async function person(username: string, roles: string[], groups: string[] = []): Promise<Person> {
    const user = await createUser(admin, username, roles, groups);
    return { id: user.id, username, password: user.password, http: user.http };
  }

  beforeAll(async () => {
    if (browserMissing) throw new Error(`CI=true and ${CHROMIUM} is missing: the browser tests cannot run (install the chromium package)`);
    if (!existsSync(WEB_DIST)) throw new Error('the web UI is not built: run `npm run build:web` first (npm test does it)');
    gateway = await startTestGateway('embedded');
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    people.alice = await person('alice', ['operator']);
    people.bob = await person('bob', ['operator']);
    people.lead = await person('lena', ['security_lead']);
    people.rita = await person('rita', ['requester']);
    people.audrey = await person('audrey', ['auditor']);
    const account = await admin.post('/api/v1/service-accounts', { name: 'ci-release', roles: ['requester'] });
    expect(account.status).toBe(201);
    automation = new Http(gateway.url).as(account.body.token);
    automationId = account.body.id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gateway?.close();
  });

  it("the UI's API client calls only routes that the gateway's OpenAPI document declares", async () => {
    const doc = (await new Http(gateway.url).get('/api/docs-json')).body;
    const missing = Object.entries(API_ROUTES)
      .filter(([, r]) => doc.paths?.[r.path]?.[r.method.toLowerCase()] === undefined)
      .map(([name, r]) => `${name}: ${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  it('two operators enrol in their own browsers; the private keys stay non-extractable in IndexedDB', async () => {
    for (const name of ['alice', 'bob'] as const) {
      const page = (pages[name] = await newPage());
      await signIn(page, people[name]);
      await expect(page.getByTestId('key-warning').textContent()).resolves.toContain('no custodian keys');
      await page.getByRole('link', { name: 'My keys' }).click();
      if (name === 'alice') {
        await page.getByLabel('Backup passphrase').fill(BACKUP_PASSPHRASE);
        await page.getByLabel('Passphrase again').fill(BACKUP_PASSPHRASE);
      } else {
        await page.getByLabel(/Make an encrypted backup/).uncheck();
      }
      if (name === 'alice') {
        // Enrolling asks for the password again; a wrong one is refused without ending the session.
        await page.getByLabel('Your current password').fill('not-alice-password');
        await page.getByRole('button', { name: 'Create and enrol keys' }).click();
        await page.getByText('the current password is wrong').waitFor();
        await expect(page.getByRole('button', { name: 'Sign out' }).count()).resolves.toBe(1);
      }
      await page.getByLabel('Your current password').fill(people[name].password);
      await page.getByRole('button', { name: 'Create and enrol keys' }).click();
      await page.locator('[data-testid="key-state"][data-state="ok"]').waitFor();
      expect(await page.getByTestId('key-warning').count()).toBe(0);

      const me = (await people[name].http.get('/api/v1/me')).body;
      const shown = (await page.getByTestId('enrolled-fingerprints').textContent()) ?? '';
      expect(shown.replace(/\s/g, '')).toContain(me.keys.signingThumbprint);
      expect(shown.replace(/\s/g, '')).toContain(me.keys.encryptionThumbprint);

      const stored = await page.evaluate(
        (userId) =>
          new Promise<{ encExtractable: boolean; sigExtractable: boolean; encUsages: string[] }>((done, fail) => {
            const open = indexedDB.open('quorumgate');
            open.onerror = () => fail(open.error);
            open.onsuccess = () => {
              const get = open.result.transaction('custodian-keys').objectStore('custodian-keys').get(userId);
              get.onsuccess = () => {
                const k = get.result.keys;
                done({ encExtractable: k.encryption.privateKey.extractable, sigExtractable: k.signing.privateKey.extractable, encUsages: k.encryption.privateKey.usages });
              };
              get.onerror = () => fail(get.error);
            };
          }),
        people[name].id,
      );
      expect(stored).toEqual({ encExtractable: false, sigExtractable: false, encUsages: ['deriveBits'] });
    }
    aliceBackup = await pages.alice!.getByTestId('backup-text').inputValue();
    expect(JSON.parse(aliceBackup)).toMatchObject({ v: 1, kdf: 'PBKDF2-SHA256' });
    expect(aliceBackup).not.toContain('"d"');
    const [download] = await Promise.all([pages.alice!.waitForEvent('download'), pages.alice!.getByTestId('backup-download').click()]);
    expect(download.suggestedFilename()).toBe('quorumgate-keys-alice.json');
    const chunks: Buffer[] = [];
    for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(aliceBackup);
  }, 120_000);

  it('a security lead creates a credential (custodians with enrolment status, threshold) and a policy in the UI', async () => {
    const page = (pages.lead = await newPage());
    await signIn(page, people.lead);
    await page.getByRole('link', { name: 'Credentials' }).click();
    const form = page.getByTestId('credential-form');
    await form.getByLabel('Name').fill('release-key');
    await form.getByLabel('Kind').selectOption('signing-key');
    // Born split by default (spec §4 generate): no private key field until the lead asks to paste one.
    await expect(form.getByRole('radio', { name: 'Generate the key here' }).isChecked()).resolves.toBe(true);
    await expect(form.getByLabel('Private key as JWK (JSON)').count()).resolves.toBe(0);
    await form.getByRole('radio', { name: 'Paste an existing private key' }).check();
    await expect(form.getByLabel('Private key as JWK (JSON)').count()).resolves.toBe(1);
    await form.getByRole('radio', { name: 'Generate the key here' }).check();
    await form.getByLabel('Algorithm').selectOption('ES256');
    await expect(form.getByText('keys enrolled').count()).resolves.toBe(2);
    await form.getByRole('checkbox', { name: /alice/ }).check();
    await form.getByRole('checkbox', { name: /bob/ }).check();
    await form.getByLabel('Threshold (k)').fill('2');
    await form.getByRole('button', { name: 'Create credential' }).click();
    await page.getByText('Credential release-key created: 2 of 2 custodians').waitFor();
    const shownJwk = JSON.parse(await page.getByTestId('public-jwk').innerText());
    expect(shownJwk).toMatchObject({ kty: 'EC', crv: 'P-256', x: expect.any(String) });
    expect(shownJwk).not.toHaveProperty('d');
    releasePublicJwk = shownJwk;

    await page.getByRole('link', { name: 'Policies' }).click();
    const policy = page.getByTestId('policy-form');
    await policy.getByLabel('Name', { exact: true }).fill('release-signing');
    await policy.locator('select[name="credential"]').selectOption({ label: 'release-key (signing-key, 2 of 2)' });
    await policy.getByLabel('Operation 1').selectOption('sign');
    await policy.getByLabel('Minimum approvals').fill('2');
    await policy.getByRole('button', { name: 'Create policy' }).click();
    await page.getByText('Policy release-signing created.').waitFor();
    await page.getByTestId('policies-table').getByText('release-signing').waitFor();

    const credentials = (await admin.get('/api/v1/credentials')).body.credentials;
    expect(credentials).toEqual([expect.objectContaining({ name: 'release-key', kind: 'signing-key', threshold: 2, generated: true, publicJwk: releasePublicJwk })]);
    expect(credentials[0].custodians.map((c: any) => c.userId).sort()).toEqual([people.alice.id, people.bob.id].sort());
    // Each credential also has its custody policy (spec §4a).
    const policies = (await admin.get('/api/v1/policies')).body.policies.filter((p: { name: string }) => !p.name.startsWith('custody-'));
    expect(policies).toEqual([expect.objectContaining({ name: 'release-signing', operations: [{ kind: 'sign' }], approvals: expect.objectContaining({ min: 2 }) })]);

    // "Require TLS" starts ticked, as the gateway's default is; unticked, it is sent as false (allowed for a database on this machine).
    await page.getByRole('link', { name: 'Credentials' }).click();
    await form.getByLabel('Kind').selectOption('postgres');
    const requireTls = form.getByRole('checkbox', { name: 'Require TLS' });
    await expect(requireTls.isChecked()).resolves.toBe(true);
    await form.getByLabel('Name').fill('local-reports');
    await form.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await form.getByLabel('Port', { exact: true }).fill('5432');
    await form.getByLabel('Database', { exact: true }).fill('reports');
    await form.getByLabel('User', { exact: true }).fill('report_ro');
    await requireTls.uncheck();
    await form.locator('input[name="secret"]').fill('throwaway-test-password');
    await form.getByRole('checkbox', { name: /alice/ }).check();
    await form.getByLabel('Threshold (k)').fill('1');
    await form.getByRole('button', { name: 'Create credential' }).click();
    await page.getByText('Credential local-reports created: 1 of 1 custodians').waitFor();
    const local = (await admin.get('/api/v1/credentials')).body.credentials.find((c: any) => c.name === 'local-reports');
    expect(local.config).toMatchObject({ host: '127.0.0.1', ssl: false });
  }, 120_000);

  it('a service account submits a sign request; it appears live in the inbox; both operators approve in the UI; it succeeds', async () => {
    const alice = pages.alice!;
    const bob = pages.bob!;
    await alice.getByRole('link', { name: 'Inbox' }).click();
    await alice.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
    await alice.getByText('Nothing waits for your decision').waitFor();

    const payloadText = 'sha256:4f0c1e9a release v1.4.2 of quorumgate';
    const payload = Buffer.from(payloadText).toString('base64url');
    const submitted = await automation.post('/api/v1/requests', signRequestBody('release-key', payload));
    expect(submitted.status).toBe(201);
    const id: string = submitted.body.id;

    // Server-sent events: the inbox shows the new request without a reload.
    const item = alice.locator(`[data-testid="inbox-item"][data-request-id="${id}"]`);
    await item.waitFor();
    await expect(item.textContent()).resolves.toContain('release v1.2.3 (OPS-42)');
    // The requester by name (alice, an operator, may not list service accounts: the name comes with the request), its id as the tooltip.
    const requesterInInbox = item.getByTestId('person');
    await expect(requesterInInbox.textContent()).resolves.toBe('ci-release (service account)');
    await expect(requesterInInbox.getAttribute('title')).resolves.toBe(`service account id ${automationId}`);
    await alice.screenshot({ path: resolve(SCREENSHOTS, 'inbox.png') });

    await item.getByRole('link', { name: 'Review' }).click();
    await alice.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
    await expect(alice.getByTestId('digest-short').getAttribute('title')).resolves.toBe(submitted.body.digest);
    await expect(alice.getByTestId('payload-size').textContent()).resolves.toBe(`${Buffer.byteLength(payloadText)} bytes`);
    await expect(alice.getByTestId('payload-sha256').textContent()).resolves.toBe(createHash('sha256').update(payloadText).digest('hex'));
    await expect(alice.getByTestId('quorum').textContent()).resolves.toContain('0 of 2');
    await expect(alice.getByTestId('requester').textContent()).resolves.toBe('ci-release (service account)');
    const custodians = alice.getByTestId('approval').getByTestId('person');
    expect((await custodians.allTextContents()).sort()).toEqual(['alice (you)', 'bob']);
    await expect(alice.locator(`[data-testid="approval"] [data-person-id="${people.bob.id}"]`).getAttribute('title')).resolves.toBe(`user id ${people.bob.id}`);
    await alice.screenshot({ path: resolve(SCREENSHOTS, 'request-detail.png'), fullPage: true });

    // Approving restates the operation in one line before anything is signed.
    await expect(approveInBrowser(alice)).resolves.toBe(`Approve and sign: sign ${Buffer.byteLength(payloadText)} bytes with release-key`);
    await expect(alice.getByTestId('decision-done').textContent()).resolves.toContain('1 of 2');

    await bob.goto(`${gateway.url}/requests/${id}`);
    await bob.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
    await approveInBrowser(bob);

    const done = await automation.get(`/api/v1/requests/${id}/wait?timeoutSeconds=30`);
    expect(done.body.status).toBe('succeeded');
    expect(await verifyRawSignature(releasePublicJwk as JsonWebKey, payload, done.body.result.signature)).toBe(true);
    expect(done.body.approvals.map((a: any) => a.userId).sort()).toEqual([people.alice.id, people.bob.id].sort());

    // Both operators' pages follow the request to its end through server-sent events; the
    // signature itself went to the requester only (spec §4), they see its hash.
    for (const page of [alice, bob]) {
      await page.locator('[data-testid="request-detail"][data-status="succeeded"]').waitFor();
      await expect(page.getByTestId('result-sha256').textContent()).resolves.toBe(createHash('sha256').update(canonicalJson(done.body.result)).digest('hex'));
      expect(await page.getByTestId('result-signature').count()).toBe(0);
    }
    await alice.getByRole('link', { name: 'Inbox' }).click();
    await alice.getByText('Nothing waits for your decision').waitFor();
  }, 120_000);

  it("a person's request shows as succeeded, with its signature, on the requester's own Requests page", async () => {
    const rita = await newPage({ width: 390, height: 844 });
    await signIn(rita, people.rita);
    expect(await rita.getByTestId('key-warning').count()).toBe(0);
    const submitted = await people.rita.http.post('/api/v1/requests', signRequestBody('release-key', Buffer.from('rita').toString('base64url')));
    expect(submitted.status).toBe(201);
    const id: string = submitted.body.id;
    await rita.goto(`${gateway.url}/requests`);
    const row = rita.locator(`tr[data-request-id="${id}"]`);
    await expect(row.locator('[data-status]').getAttribute('data-status')).resolves.toBe('pending');
    await expect(row.getByTestId('person').textContent()).resolves.toBe('rita (you)');

    for (const page of [pages.alice!, pages.bob!]) {
      await page.goto(`${gateway.url}/requests/${id}`);
      await page.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
      await expect(page.getByTestId('requester').textContent()).resolves.toBe('rita');
      await expect(page.getByTestId('requester').getByTestId('person').getAttribute('title')).resolves.toBe(`user id ${people.rita.id}`);
      await approveInBrowser(page);
      await page.getByTestId('decision-done').waitFor();
    }

    await row.locator('[data-status="succeeded"]').waitFor();
    await expect(row.textContent()).resolves.toContain('signature ready');
    await row.getByRole('link').click();
    await rita.locator('[data-testid="request-detail"][data-status="succeeded"]').waitFor();
    await rita.getByTestId('result-signature').waitFor();
    // A requester may not list users, yet sees who approved by name.
    expect((await rita.locator('[data-testid="approval"][data-decision="approve"] [data-testid="person"]').allTextContents()).sort()).toEqual(['alice', 'bob']);
    expect(await rita.getByRole('button', { name: 'Approve' }).count()).toBe(0);
  }, 120_000);

  it('a custodian checks in from "My credentials" in the browser; the lead sees each credential\'s margin with a warning below 1', async () => {
    const alice = pages.alice!;
    await alice.getByRole('link', { name: 'My credentials' }).click();
    const row = alice.locator('[data-testid="my-credential"][data-credential="release-key"]');
    await expect(row.getByTestId('last-check-in').textContent()).resolves.toBe('never');
    await row.getByRole('button', { name: 'Check in' }).click();
    await expect(alice.getByTestId('check-in-result').textContent()).resolves.toContain('Checked in to release-key');
    await alice.waitForFunction(() => document.querySelector('[data-credential="release-key"] [data-testid="last-check-in"]')?.textContent !== 'never');
    await alice.screenshot({ path: resolve(SCREENSHOTS, 'my-credentials.png'), fullPage: true });
    const credential = (await admin.get('/api/v1/credentials/release-key')).body;
    const health = (await admin.get(`/api/v1/credentials/${credential.id}/health`)).body;
    const mine = health.groups[0].custodians.find((c: any) => c.userId === people.alice.id);
    expect(mine).toMatchObject({ live: true, lastCheckInAt: expect.any(String) });
    const checkedIn = (await admin.get('/api/v1/audit?limit=1000')).body.entries.filter((e: any) => e.action === 'credential.checked_in');
    expect(checkedIn).toEqual([expect.objectContaining({ actor: `user:${people.alice.id}`, subject: `credential:${credential.id}` })]);

    // 2 of 2: every custodian counts, and still one departure loses it.
    const lead = pages.lead!;
    await lead.getByRole('link', { name: 'Credentials' }).click();
    const margin = lead.locator('[data-testid="credentials-table"] tr', { hasText: 'release-key' }).getByTestId('margin');
    await expect(margin.getAttribute('data-margin')).resolves.toBe('0');
    await expect(margin.textContent()).resolves.toContain('one more departure loses this credential: re-share now');
  }, 120_000);

  it('refuses to sign when the digestInput it receives was tampered with, and records no approval', async () => {
    const submitted = await automation.post('/api/v1/requests', signRequestBody('release-key', Buffer.from('tamper me').toString('base64url')));
    expect(submitted.status).toBe(201);
    const id: string = submitted.body.id;
    const alice = pages.alice!;
    const decisions: string[] = [];
    alice.on('request', (r) => {
      if (r.url().includes(`/api/v1/requests/${id}/`)) decisions.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    await alice.route(`**/api/v1/requests/${id}`, async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      body.digestInput.reason = 'routine certificate renewal';
      await route.fulfill({ response, json: body });
    });

    await alice.goto(`${gateway.url}/requests/${id}`);
    const refusal = alice.getByTestId('refusal');
    await refusal.waitFor();
    const text = (await refusal.textContent()) ?? '';
    expect(text).toContain('This browser refuses to sign this request');
    expect(text).toContain('does not match the digest the gateway sent');
    await alice.locator('[data-testid="digest-check"][data-ok="false"]').waitFor();
    expect(await alice.getByRole('button', { name: 'Approve' }).isDisabled()).toBe(true);
    expect(await alice.getByRole('button', { name: 'Reject…' }).isDisabled()).toBe(true);
    await alice.unroute(`**/api/v1/requests/${id}`);

    const seen = (await admin.get(`/api/v1/requests/${id}`)).body;
    expect(seen.status).toBe('pending');
    expect(seen.approvals).toEqual([]);
    expect(decisions.filter((d) => d.startsWith('POST') || d.endsWith('/share'))).toEqual([]);
  }, 120_000);

  it('rejecting asks for a reason, which the gateway records with the veto', async () => {
    const submitted = await automation.post('/api/v1/requests', signRequestBody('release-key', Buffer.from('reject me').toString('base64url')));
    const id: string = submitted.body.id;
    const bob = pages.bob!;
    await bob.goto(`${gateway.url}/requests/${id}`);
    await bob.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
    await bob.getByRole('button', { name: 'Reject…' }).click();
    const dialog = bob.getByRole('dialog', { name: 'Reject this request' });
    await expect(dialog.getByRole('button', { name: 'Reject request' }).isDisabled()).resolves.toBe(true);
    await dialog.getByLabel('Reason').fill('not a release day');
    await dialog.getByRole('button', { name: 'Reject request' }).click();
    await bob.locator('[data-testid="request-detail"][data-status="rejected"]').waitFor();
    const seen = (await admin.get(`/api/v1/requests/${id}`)).body;
    expect(seen.status).toBe('rejected');
    expect(seen.approvals).toEqual([expect.objectContaining({ userId: people.bob.id, decision: 'reject', reason: 'not a release day' })]);
  }, 120_000);

  it('shows a reviewer every invisible or direction-changing character of what would run, with a warning; the gateway refuses them in a reason', async () => {
    const lena = people.lead.http;
    const local = (await lena.get('/api/v1/credentials/local-reports')).body;
    const policy = await lena.post('/api/v1/policies', { name: 'local-reports-sql', credentialId: local.id, operations: [{ kind: 'sql.exec' }], approvals: { min: 1 } });
    expect(policy.status).toBe(201);
    const sql = "SELECT 'ok' /* \u202e ;tcelfer */ -- \u200b";
    const hiddenInReason = await automation.post('/api/v1/requests', { credential: 'local-reports', operation: { kind: 'sql.exec', params: { sql: 'SELECT 1' } }, reason: 'looks fine \u202e enif skool' });
    expect(hiddenInReason.status).toBe(400);
    expect(hiddenInReason.body.detail).toContain('bidirectional');
    const submitted = await automation.post('/api/v1/requests', { credential: 'local-reports', operation: { kind: 'sql.exec', params: { sql } }, reason: 'report the nightly totals' });
    expect(submitted.status).toBe(201);
    const alice = pages.alice!;
    await alice.goto(`${gateway.url}/requests/${submitted.body.id}`);
    await alice.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
    const shown = alice.locator('pre[data-hidden-characters="2"]');
    await expect(shown.textContent()).resolves.toBe("SELECT 'ok' /* ⟦U+202E⟧ ;tcelfer */ -- ⟦U+200B⟧");
    await expect(alice.getByTestId('hidden-characters-warning').textContent()).resolves.toContain('2 invisible or direction-changing characters');
    await expect(alice.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('⟦U+202E⟧');
    expect((await automation.post(`/api/v1/requests/${submitted.body.id}/cancel`, {})).status).toBe(200);
  }, 120_000);

  it('a new browser warns that it holds no key, and the encrypted backup restores the enrolled keys', async () => {
    const page = await newPage();
    await signIn(page, people.alice);
    await expect(page.getByTestId('key-warning').textContent()).resolves.toContain('This browser holds no key for alice');
    await page.getByRole('link', { name: 'My keys' }).click();
    await page.getByLabel('…or paste the backup text').fill(aliceBackup);
    await page.getByLabel('Backup passphrase', { exact: true }).fill('not the passphrase');
    await page.getByRole('button', { name: 'Restore keys' }).click();
    await page.getByText('does not open with that passphrase').waitFor();
    await page.getByLabel('Backup passphrase', { exact: true }).fill(BACKUP_PASSPHRASE);
    await page.getByRole('button', { name: 'Restore keys' }).click();
    await page.locator('[data-testid="key-state"][data-state="ok"]').waitFor();
    expect(await page.getByTestId('key-warning').count()).toBe(0);
  }, 120_000);

  it('an auditor sees the audit log and its intact hash chain', async () => {
    const page = await newPage();
    await signIn(page, people.audrey);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('[data-testid="audit-verify"][data-ok="true"]').waitFor();
    // Newest first, one page at a time: the enrolments are found with the action filter.
    await page.getByTestId('audit-filters').getByLabel('Action').selectOption('keys.enrolled');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByTestId('audit-table').getByText('keys.enrolled').first().waitFor();
  }, 60_000);

  it('an admin disables and enables a user, edits roles and revokes a service account in the UI; the gateway enforces each', async () => {
    // Dedicated throwaway accounts: the earlier tests' people and ci-release stay as they were.
    const dora = await person('dora-lifecycle', ['operator']);
    const eddie = await person('eddie-lifecycle', ['requester']);
    const adminMe = (await admin.get('/api/v1/me')).body;
    const anonymous = new Http(gateway.url);
    const listedUser = async (username: string) => ((await admin.get('/api/v1/users')).body.users as any[]).find((u) => u.username === username);

    const page = await newPage();
    await signIn(page, { id: adminMe.id, username: 'admin', password: ADMIN_PASSWORD, http: admin });
    await page.getByRole('link', { name: 'Users' }).click();
    const table = page.getByTestId('users-table');
    const row = (username: string) => table.locator(`tr[data-testid="user-row"][data-username="${username}"]`);
    const confirm = table.getByTestId('user-confirm');
    const notice = page.getByTestId('users-notice');
    await expect(row('dora-lifecycle').getByTestId('user-status').textContent()).resolves.toBe('active');

    // Disabling asks first, naming the user; Cancel (which has the focus) changes nothing.
    await row('dora-lifecycle').getByRole('button', { name: 'Disable', exact: true }).click();
    await expect(confirm.textContent()).resolves.toContain('Disable dora-lifecycle?');
    await expect(confirm.getByRole('button', { name: 'Cancel' }).evaluate((b) => b === document.activeElement)).resolves.toBe(true);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect((await listedUser('dora-lifecycle')).disabled).toBe(false);

    await row('dora-lifecycle').getByRole('button', { name: 'Disable', exact: true }).click();
    await confirm.getByRole('button', { name: 'Disable dora-lifecycle', exact: true }).click();
    await table.locator('tr[data-username="dora-lifecycle"][data-disabled="true"]').waitFor();
    await expect(notice.textContent()).resolves.toContain('User dora-lifecycle disabled');
    await expect(row('dora-lifecycle').getByTestId('user-status').textContent()).resolves.toBe('disabled');
    const refused = await anonymous.post('/api/v1/auth/login', { username: dora.username, password: dora.password });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect((await dora.http.get('/api/v1/me')).status).toBe(401);
    expect(await listedUser('dora-lifecycle')).toMatchObject({ id: dora.id, disabled: true });

    await row('dora-lifecycle').getByRole('button', { name: 'Enable', exact: true }).click();
    await expect(confirm.textContent()).resolves.toContain('Enable dora-lifecycle?');
    await confirm.getByRole('button', { name: 'Enable dora-lifecycle', exact: true }).click();
    await table.locator('tr[data-username="dora-lifecycle"][data-disabled="false"]').waitFor();
    await expect(notice.textContent()).resolves.toContain('User dora-lifecycle enabled');
    expect(await listedUser('dora-lifecycle')).toMatchObject({ id: dora.id, disabled: false, roles: ['operator'] });
    expect((await anonymous.post('/api/v1/auth/login', { username: dora.username, password: dora.password })).status).toBe(200);

    // Roles, edited inline; Save sends them, GET /users shows them.
    await row('eddie-lifecycle').getByRole('button', { name: 'Edit roles' }).click();
    const editor = table.getByTestId('role-editor');
    await expect(editor.getByRole('checkbox', { name: /^requester/ }).isChecked()).resolves.toBe(true);
    await editor.getByRole('checkbox', { name: /^requester/ }).uncheck();
    await editor.getByRole('checkbox', { name: /^auditor/ }).check();
    await editor.getByRole('checkbox', { name: /^operator/ }).check();
    await editor.getByRole('button', { name: 'Save roles' }).click();
    await editor.waitFor({ state: 'detached' });
    await expect(notice.textContent()).resolves.toBe('Roles of eddie-lifecycle are now auditor, operator.');
    await expect(row('eddie-lifecycle').locator('td').nth(2).textContent()).resolves.toBe('auditor, operator');
    expect((await listedUser('eddie-lifecycle')).roles.sort()).toEqual(['auditor', 'operator']);
    expect((await eddie.http.get('/api/v1/me')).body.roles.sort()).toEqual(['auditor', 'operator']);

    // A refusal shows the gateway's problem detail: the last enabled admin cannot disable themselves.
    await row('admin').getByRole('button', { name: 'Disable', exact: true }).click();
    await expect(confirm.textContent()).resolves.toContain('your own account');
    await confirm.getByRole('button', { name: 'Disable admin', exact: true }).click();
    const alert = confirm.getByRole('alert');
    await alert.waitFor();
    const conflict = await admin.request('PATCH', `/api/v1/users/${adminMe.id}`, { disabled: true });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('CONFLICT');
    await expect(alert.textContent()).resolves.toContain(conflict.body.detail);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect((await listedUser('admin')).disabled).toBe(false);

    // A security lead reads the list, status included, and is offered no action.
    const leadPage = await newPage();
    await signIn(leadPage, people.lead);
    await leadPage.goto(`${gateway.url}/users`);
    const leadRow = leadPage.locator('tr[data-testid="user-row"][data-username="dora-lifecycle"]');
    await expect(leadRow.getByTestId('user-status').textContent()).resolves.toBe('active');
    expect(await leadPage.getByTestId('users-table').getByRole('button').count()).toBe(0);

    // A service account made in the UI, revoked in the UI: its token is refused from then on.
    await page.getByRole('link', { name: 'Service accounts' }).click();
    const saForm = page.getByTestId('service-account-form');
    await saForm.getByLabel('Name').fill('throwaway-bot');
    await saForm.getByLabel('Owner').selectOption({ label: 'rita' });
    await saForm.getByRole('button', { name: 'Create service account' }).click();
    const token = ((await page.getByTestId('service-token').textContent()) ?? '').trim();
    const bot = anonymous.as(token);
    expect((await bot.get('/api/v1/me')).status).toBe(200);
    await page.getByRole('button', { name: 'I have stored it' }).click();

    const accounts = page.getByTestId('service-accounts-table');
    const botRow = accounts.locator('tr[data-testid="service-account-row"][data-name="throwaway-bot"]');
    await expect(botRow.getByTestId('service-account-status').textContent()).resolves.toBe('active');
    await expect(botRow.getByTestId('service-account-owner').textContent()).resolves.toBe('rita');
    await botRow.getByRole('button', { name: 'Revoke', exact: true }).click();
    const saConfirm = accounts.getByTestId('service-account-confirm');
    await expect(saConfirm.textContent()).resolves.toContain('Revoke throwaway-bot?');
    await saConfirm.getByRole('button', { name: 'Revoke throwaway-bot', exact: true }).click();
    await accounts.locator('tr[data-name="throwaway-bot"][data-revoked="true"]').waitFor();
    await expect(page.getByTestId('service-accounts-notice').textContent()).resolves.toContain('Service account throwaway-bot revoked');
    expect(await botRow.getByRole('button').count()).toBe(0);

    expect((await bot.get('/api/v1/me')).status).toBe(401);
    const listedAccounts = (await admin.get('/api/v1/service-accounts')).body.serviceAccounts as any[];
    const revoked = listedAccounts.find((a) => a.name === 'throwaway-bot');
    expect(typeof revoked.revokedAt).toBe('string');
    const shown = await page.evaluate((iso) => new Date(iso).toLocaleString(), revoked.revokedAt as string);
    await expect(botRow.getByTestId('service-account-status').textContent()).resolves.toBe(`revoked ${shown}`);
    expect(listedAccounts.find((a) => a.name === 'ci-release')).toMatchObject({ id: automationId, revokedAt: null });
    expect((await admin.request('DELETE', `/api/v1/service-accounts/${revoked.id}`)).status).toBe(404);
  }, 120_000);
  it('a security lead builds a two-group credential in the form; three custodians approve in their browsers; each group\'s progress is shown', async () => {
    const carl = await person('carl', ['operator']);
    const carlPage = (pages.carl = await newPage());
    await signIn(carlPage, carl);
    await carlPage.getByRole('link', { name: 'My keys' }).click();
    await carlPage.getByLabel(/Make an encrypted backup/).uncheck();
    await carlPage.getByLabel('Your current password').fill(carl.password);
    await carlPage.getByRole('button', { name: 'Create and enrol keys' }).click();
    await carlPage.locator('[data-testid="key-state"][data-state="ok"]').waitFor();

    const lead = pages.lead!;
    await lead.getByRole('link', { name: 'Credentials' }).click();
    // carl is new since this page listed the custodians
    await lead.reload();
    const form = lead.getByTestId('credential-form');
    const signingKey = await generateSigningJwk();
    await form.getByLabel('Name').fill('break-glass-key');
    await form.getByLabel('Kind').selectOption('signing-key');
    await form.getByLabel('Paste an existing private key').check();
    await form.getByLabel('Private key as JWK (JSON)').fill(JSON.stringify(signingKey.privateJwk));
    await form.getByRole('button', { name: 'Add group' }).click();
    const sre = form.getByTestId('sharing-group-0');
    const security = form.getByTestId('sharing-group-1');
    await sre.getByLabel('Group name').fill('sre');
    await sre.getByRole('checkbox', { name: /alice/ }).check();
    await sre.getByRole('checkbox', { name: /bob/ }).check();
    await sre.getByLabel('Threshold (k)').fill('2');
    await security.getByLabel('Group name').fill('security');
    // alice is in sre: she cannot be put in a second group
    await expect(security.getByRole('checkbox', { name: /alice/ }).isDisabled()).resolves.toBe(true);
    await security.getByRole('checkbox', { name: /carl/ }).check();
    await security.getByLabel('Threshold (k)').fill('1');
    await expect(form.getByTestId('sharing-summary').textContent()).resolves.toBe('Approval needs all of alice, bob AND carl.');
    await form.getByRole('button', { name: 'Create credential' }).click();
    await lead.getByText('Credential break-glass-key created: sre 2 of 2 AND security 1 of 1').waitFor();
    const credential = (await admin.get('/api/v1/credentials/break-glass-key')).body;
    expect(credential.threshold).toBe(3);
    expect(credential.sharing.groups.map((g: any) => [g.name, g.threshold, g.custodians.map((c: any) => c.userId)])).toEqual([
      ['sre', 2, [people.alice.id, people.bob.id]],
      ['security', 1, [carl.id]],
    ]);
    const policy = await people.lead.http.post('/api/v1/policies', { name: 'break-glass-signing', credentialId: credential.id, operations: [{ kind: 'sign' }], approvals: { min: 3 } });
    expect(policy.status).toBe(201);

    const payload = Buffer.from('break glass: sign the incident bundle').toString('base64url');
    const submitted = await automation.post('/api/v1/requests', signRequestBody('break-glass-key', payload));
    expect(submitted.status).toBe(201);
    const id: string = submitted.body.id;

    const progress = async (page: Page) => ((await page.getByTestId('group-progress').textContent()) ?? '').replace(/\s+/g, ' ').trim();
    const alice = pages.alice!;
    await alice.goto(`${gateway.url}/requests/${id}`);
    await alice.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
    await expect(progress(alice)).resolves.toBe('sre 0 of 2 · security 0 of 1');
    await approveInBrowser(alice);
    await alice.getByTestId('decision-done').waitFor();

    // carl's inbox says which group still needs whom
    await carlPage.getByRole('link', { name: 'Inbox' }).click();
    const item = carlPage.locator(`[data-testid="inbox-item"][data-request-id="${id}"]`);
    await item.waitFor();
    await expect(item.getByTestId('group-needs').textContent()).resolves.toMatch(/sre needs 1 more: bob · security needs 1 more: carl/);

    const bob = pages.bob!;
    await bob.goto(`${gateway.url}/requests/${id}`);
    await bob.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
    await approveInBrowser(bob);
    await bob.getByTestId('decision-done').waitFor();
    await bob.reload();
    await bob.locator('[data-testid="request-detail"][data-status="pending"]').waitFor();
    await expect(progress(bob)).resolves.toBe('sre 2 of 2 ✓ · security 0 of 1');
    expect((await automation.get(`/api/v1/requests/${id}`)).body.status).toBe('pending');
    await bob.screenshot({ path: resolve(SCREENSHOTS, 'grouped-progress.png'), fullPage: true });

    await item.getByRole('link', { name: 'Review' }).click();
    await carlPage.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
    await approveInBrowser(carlPage);
    const done = await automation.get(`/api/v1/requests/${id}/wait?timeoutSeconds=30`);
    expect(done.body.status).toBe('succeeded');
    expect(await verifyRawSignature(signingKey.publicJwk as JsonWebKey, payload, done.body.result.signature)).toBe(true);
    await bob.locator('[data-testid="request-detail"][data-status="succeeded"]').waitFor();
    await expect(progress(bob)).resolves.toBe('sre 2 of 2 ✓ · security 1 of 1 ✓');
  }, 180_000);
});
