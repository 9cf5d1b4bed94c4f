/**
 * Issue 19 items 1, 6 and 7 in a real Chromium against a real gateway: a requester
 * submits each operation kind from the "New request" page (the preview naming the
 * policy and the approvers first) and follows it live to its result, the custodians
 * approving through the API against real peers (an HTTPS upstream, the fake Kubernetes
 * API server, OpenSSH's sshd, the PostgreSQL server); a custodian's tab whose live
 * updates dropped offers no decision until it has reloaded the request; a refused
 * decision shows the request as it now is, in a sentence with the code in small print.
 * Build first: `npm run build` (npm test does it).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { compactDecrypt } from 'jose';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { exportPublicJwks, generateCustodianKeys, type CustodianKeys } from '../../libs/custodian/index.js';
import { approveInBrowser } from '../support/browser-actions.js';
import { Http } from '../support/http.js';
import { startFakeKubeApi, type FakeKubeApi } from '../support/peers/kube-api-server.js';
import { startSqlPeer, type SqlPeer } from '../support/peers/postgres.js';
import { generateSshKeyPair, sshdAvailable, startSshd, type TestSshd } from '../support/peers/sshd.js';
import { makeTestPki } from '../support/peers/tls.js';
import { approve, createOperator, createUser, type Operator } from '../support/quorum.js';
import { realDatabaseUrl } from '../support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../support/test-gateway.js';

const CHROMIUM = process.env.QG_CHROMIUM ?? '/usr/bin/chromium';
const WEB_DIST = resolve(process.cwd(), 'apps/web/dist/index.html');
// As in ui.e2e-spec: the README's screenshots change only when asked for.
const SCREENSHOTS = process.env.QG_UPDATE_SCREENSHOTS === '1' ? resolve(process.cwd(), 'docs/screenshots') : join(tmpdir(), 'quorumgate-screenshots');
const browserMissing = !existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
const KUBE_TOKEN = 'qg-ui-kube-token-5d1c9e0a7b3f2468';
const HTTP_TOKEN = 'qg-ui-http-token-0a9b8c7d6e5f4321';
const sshAvailable = sshdAvailable();
const sqlAdminUrl = realDatabaseUrl();
if (!browserMissing && !sshAvailable) process.stderr.write('new-request UI: /usr/sbin/sshd is not installed: skipping ssh.exec\n');
if (!browserMissing && sqlAdminUrl === undefined) process.stderr.write('new-request UI: QG_TEST_DATABASE_URL is not set: skipping sql.exec\n');

(browserMissing ? (inCi ? describe : describe.skip) : describe)('submitting requests and honest state in the web UI', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let admin: Http;
  let lead: Http;
  let custodians: Operator[];
  let rita: { id: string; http: Http; password: string; keys: CustodianKeys };
  let ritaPage: Page;
  let kube: FakeKubeApi;
  let sshd: TestSshd | undefined;
  let sql: SqlPeer | undefined;
  const upstream: { server?: Server; url: string; seen: { method: string; url: string; authorization: string; body: string }[] } = { url: '', seen: [] };
  const contexts: BrowserContext[] = [];
  let signingPublicJwk: JsonWebKey;

  async function newPage(context?: BrowserContext): Promise<Page> {
    let ctx = context;
    if (ctx === undefined) {
      ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
      contexts.push(ctx);
    }
    const page = await ctx.newPage();
    page.setDefaultTimeout(20_000);
    return page;
  }

  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${gateway.url}/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  async function credential(name: string, body: Record<string, unknown>, custodianIds = custodians.map((c) => c.id)): Promise<any> {
    const res = await lead.post('/api/v1/credentials', { name, ...body, custodians: custodianIds, threshold: 2 });
    if (res.status !== 201) throw new Error(`credential ${name}: ${res.status} ${res.text}`);
    return res.body;
  }

  async function policy(name: string, credentialId: string, operations: Record<string, unknown>[]): Promise<void> {
    const res = await lead.post('/api/v1/policies', { name, credentialId, operations, approvals: { min: 2 } });
    if (res.status !== 201) throw new Error(`policy ${name}: ${res.status} ${res.text}`);
  }

  beforeAll(async () => {
    if (browserMissing) throw new Error(`CI=true and ${CHROMIUM} is missing: the browser tests cannot run`);
    if (!existsSync(WEB_DIST)) throw new Error('the web UI is not built: run `npm run build:web` first');
    [gateway, kube] = await Promise.all([startTestGateway('embedded'), startFakeKubeApi(KUBE_TOKEN)]);
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    lead = (await createUser(admin, 'nr-lead', ['security_lead'])).http;
    custodians = [await createOperator(admin, 'nr-carol'), await createOperator(admin, 'nr-dave')];
    // A requester (only) with keys enrolled, so that `reveal` can seal to her.
    const user = await createUser(admin, 'nr-rita', ['requester']);
    const keys = await generateCustodianKeys();
    const jwks = await exportPublicJwks(keys);
    expect((await user.http.put('/api/v1/me/keys', { encryptionKey: jwks.encryptionKey, signingKey: jwks.signingKey, currentPassword: user.password })).status).toBe(200);
    rita = { ...user, keys };

    const signing = await credential('nr-release-key', { kind: 'signing-key', generate: { alg: 'ES256' } });
    signingPublicJwk = signing.publicJwk;
    await policy('nr-release-signing', signing.id, [{ kind: 'sign' }]);

    const pki = makeTestPki();
    upstream.server = createHttpsServer({ key: pki.server.key, cert: pki.server.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        upstream.seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: String(req.headers.authorization), body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ rotated: true }));
      });
    });
    await new Promise<void>((done) => upstream.server!.listen(0, '127.0.0.1', done));
    upstream.url = `https://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`;
    const api = await credential('nr-admin-api', { kind: 'http-token', config: { baseUrl: upstream.url, caCertificate: pki.ca }, secret: HTTP_TOKEN });
    await policy('nr-admin-api-rotate', api.id, [{ kind: 'http', constraints: { method: 'POST', path: '/admin/rotate/*' } }]);

    const kubeCredential = await credential('nr-kube-prod', { kind: 'kubeconfig', secret: kube.kubeconfig() });
    await policy('nr-kube-prod-exec', kubeCredential.id, [{ kind: 'kubernetes.exec', constraints: { namespace: 'prod-*' } }, { kind: 'reveal' }]);

    if (sshAvailable) {
      sshd = await startSshd();
      const key = generateSshKeyPair('ed25519');
      const ssh = await credential('nr-ssh-web', { kind: 'ssh-key', secret: key.privateKey, config: { host: sshd.host, port: sshd.port, username: sshd.username, hostKeySha256: sshd.hostKeySha256 } });
      sshd.authorize(ssh.publicInfo.publicKey);
      await policy('nr-ssh-web-echo', ssh.id, [{ kind: 'ssh.exec', constraints: { command: ['echo', '**'] } }]);
    }
    if (sqlAdminUrl !== undefined) {
      sql = await startSqlPeer(sqlAdminUrl);
      const reports = await credential('nr-reports', { kind: 'postgres', secret: sql.password, config: { host: sql.host, port: sql.port, database: sql.database, user: sql.role, ssl: false } });
      await policy('nr-reports-read', reports.id, [{ kind: 'sql.exec', constraints: { readOnly: true } }]);
    }

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-sync'] });
    await mkdir(SCREENSHOTS, { recursive: true });
    ritaPage = await newPage();
    await signIn(ritaPage, 'nr-rita', rita.password);
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gateway?.close();
    await kube?.close();
    await sshd?.close();
    await sql?.close();
    upstream.server?.close();
  });

  /** On rita's page: New request, the credential and the kind, then `fill`, the reason; waits for the preview, submits, lands on the request page. */
  async function submitInUi(credentialName: string, kind: string, fill: (form: Locator) => Promise<void>, reason = `ui ${kind}`, screenshot?: string): Promise<{ id: string; preview: string }> {
    const page = ritaPage;
    await page.getByRole('link', { name: 'Requests', exact: true }).click();
    await page.getByRole('link', { name: 'New request' }).first().click();
    const form = page.getByTestId('new-request-form');
    const option = form.getByLabel(/^Credential/).locator('option', { hasText: credentialName });
    await form.getByLabel(/^Credential/).selectOption((await option.getAttribute('value')) ?? '');
    await form.getByLabel(/^Operation/).selectOption(kind);
    await fill(form);
    await form.getByLabel(/^Reason/).fill(reason);
    const preview = form.getByTestId('request-preview');
    await preview.waitFor();
    const previewText = ((await preview.textContent()) ?? '').replace(/\s+/g, ' ');
    if (screenshot !== undefined) await page.screenshot({ path: resolve(SCREENSHOTS, screenshot), fullPage: true });
    await form.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/[0-9a-f-]{36}$/);
    const id = new URL(page.url()).pathname.split('/').at(-1)!;
    await page.locator(`[data-testid="request-detail"][data-status="pending"]`).waitFor();
    return { id, preview: previewText };
  }

  /** Both custodians approve through the API; rita's page follows the request live to its end. */
  async function approveAndFollow(id: string): Promise<any> {
    for (const custodian of custodians) {
      const request = (await custodian.http.get(`/api/v1/requests/${id}`)).body;
      expect((await approve(custodian, request)).status).toBe(201);
    }
    const done = (await rita.http.get(`/api/v1/requests/${id}/wait?timeoutSeconds=30`)).body;
    expect(done.status).toBe('succeeded');
    await ritaPage.locator('[data-testid="request-detail"][data-status="succeeded"]').waitFor();
    await ritaPage.getByTestId('result').waitFor();
    return done;
  }

  it('a requester sees "New request" instead of being sent to the CLI; the form offers only what the policies let her use', async () => {
    await ritaPage.getByRole('link', { name: 'Requests', exact: true }).click();
    await expect(ritaPage.getByText('You have not submitted any request yet').textContent()).resolves.toContain('Submit a new request');
    expect(await ritaPage.getByText('usually submitted with the qg CLI').count()).toBe(0);
    await ritaPage.getByRole('link', { name: 'New request' }).first().click();
    await ritaPage.waitForFunction(() => document.title === 'New request · quorumgate');
    const form = ritaPage.getByTestId('new-request-form');
    const names = (await form.getByLabel(/^Credential/).locator('option').allTextContents()).slice(1);
    expect(names).toEqual(
      expect.arrayContaining(['nr-admin-api (http-token)', 'nr-kube-prod (kubeconfig)', 'nr-release-key (signing-key)']),
    );
    // A credential no policy lets her use is not offered; a custodian-only user sees no New request button.
    const hidden = await credential('nr-unused', { kind: 'signing-key', generate: { alg: 'ES256' } });
    await ritaPage.reload();
    expect(await ritaPage.getByTestId('new-request-form').getByLabel(/^Credential/).locator('option', { hasText: hidden.name }).count()).toBe(0);
    const kubeValue = await form.getByLabel(/^Credential/).locator('option', { hasText: 'nr-kube-prod' }).getAttribute('value');
    await form.getByLabel(/^Credential/).selectOption(kubeValue ?? '');
    expect((await form.getByLabel(/^Operation/).locator('option').allTextContents()).slice(1)).toEqual(['kubernetes.exec', 'reveal (break-glass)']);
  }, 60_000);

  it('sign: pasted text; the preview names the policy and the approvers and creates nothing; the signature verifies', async () => {
    const before = (await admin.get('/api/v1/requests')).body.requests.length;
    const text = 'release notes v2.0.0';
    const { id, preview } = await submitInUi('nr-release-key', 'sign', async (form) => {
      await form.getByLabel(/^Text to sign/).fill(text);
    }, 'release v2.0.0 (OPS-51)', 'new-request.png');
    expect(preview).toContain('Policy nr-release-signing applies. It needs 2 approvals');
    expect(preview).toContain('any 2 of nr-carol, nr-dave');
    expect(preview).toContain(`sign ${text.length} bytes`);
    // The preview (asked for several times while typing) created nothing: only the submission did.
    expect((await admin.get('/api/v1/requests')).body.requests.length).toBe(before + 1);
    const done = await approveAndFollow(id);
    const signature = (await ritaPage.getByTestId('result-signature').textContent()) ?? '';
    expect(signature).toBe(done.result.signature);
    const key = await crypto.subtle.importKey('jwk', signingPublicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    expect(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(signature, 'base64url'), Buffer.from(text))).toBe(true);
  }, 90_000);

  it('sign: a chosen file, as JWS', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 0x0a]);
    const { id } = await submitInUi('nr-release-key', 'sign', async (form) => {
      await form.getByRole('radio', { name: 'Choose a file' }).check();
      await form.getByLabel(/^File to sign/).setInputFiles({ name: 'SHA256SUMS', mimeType: 'application/octet-stream', buffer: bytes });
      await form.getByText('SHA256SUMS: 7 bytes').waitFor();
      await form.getByLabel(/^Signature format/).selectOption('jws');
    });
    const done = await approveAndFollow(id);
    expect(done.digestInput.operation.params).toEqual({ payload: bytes.toString('base64url'), format: 'jws' });
    await expect(ritaPage.getByTestId('result-jws').textContent()).resolves.toBe(done.result.jws);
  }, 90_000);

  it('http: method, path, headers and body reach the upstream with the token; the answer is shown', async () => {
    const { id, preview } = await submitInUi('nr-admin-api', 'http', async (form) => {
      await form.getByLabel(/^Method/).selectOption('POST');
      await form.getByLabel(/^Path/).fill('/admin/rotate/db');
      await form.getByLabel(/^Headers/).fill('X-Ticket: OPS-7');
      await form.getByLabel(/^Body/).fill('{"reason":"scheduled"}');
    });
    expect(preview).toContain('Policy nr-admin-api-rotate applies');
    await approveAndFollow(id);
    expect(upstream.seen.at(-1)).toEqual({ method: 'POST', url: '/admin/rotate/db', authorization: `Bearer ${HTTP_TOKEN}`, body: '{"reason":"scheduled"}' });
    await expect(ritaPage.getByTestId('result-http-status').textContent()).resolves.toBe('200');
    await expect(ritaPage.getByTestId('result-body').textContent()).resolves.toContain('"rotated":true');
  }, 90_000);

  it('kubernetes.exec: a namespace the policy refuses is refused in the preview, in words; an admitted one runs', async () => {
    const page = ritaPage;
    await page.getByRole('link', { name: 'Requests', exact: true }).click();
    await page.getByRole('link', { name: 'New request' }).first().click();
    const form = page.getByTestId('new-request-form');
    await form.getByLabel(/^Credential/).selectOption((await form.getByLabel(/^Credential/).locator('option', { hasText: 'nr-kube-prod' }).getAttribute('value')) ?? '');
    await form.getByLabel(/^Operation/).selectOption('kubernetes.exec');
    await form.getByLabel(/^Namespace/).fill('staging');
    await form.getByLabel(/^Pod/).fill('api-0');
    await form.getByLabel(/^Command/).fill('id');
    const refused = form.getByTestId('preview-refused');
    await expect(refused.getByTestId('problem-sentence').textContent()).resolves.toBe(
      'No policy lets you run this operation on this credential. Change what you ask for, or ask a security lead for a policy.',
    );
    await expect(refused.getByTestId('problem-reference').textContent()).resolves.toMatch(/reference NO_MATCHING_POLICY · trace \S+/);

    const before = kube.execs.length;
    const { id } = await submitInUi('nr-kube-prod', 'kubernetes.exec', async (f) => {
      await f.getByLabel(/^Namespace/).fill('prod-eu');
      await f.getByLabel(/^Pod/).fill('api-0');
      await f.getByLabel(/^Container/).fill('app');
      await f.getByLabel(/^Command/).fill('cat\n/etc/hostname');
    });
    await approveAndFollow(id);
    expect(kube.execs.length).toBe(before + 1);
    expect(kube.execs.at(-1)).toMatchObject({ namespace: 'prod-eu', pod: 'api-0', container: 'app', command: ['cat', '/etc/hostname'] });
    await expect(ritaPage.getByTestId('result-standard-output').textContent()).resolves.toBe('cat /etc/hostname\n');
  }, 90_000);

  it('reveal: a break-glass warning, sealed to her own key; she can open what comes back', async () => {
    const me = (await rita.http.get('/api/v1/me')).body;
    const { id, preview } = await submitInUi('nr-kube-prod', 'reveal', async (form) => {
      await expect(form.getByTestId('reveal-warning').textContent()).resolves.toContain('Break-glass: this hands you the secret itself.');
      await expect(form.getByTestId('form-missing').textContent()).resolves.toBe('Tick the box to confirm you need the secret itself.');
      await form.getByRole('checkbox', { name: /I need the secret itself/ }).check();
    });
    expect(preview).toContain('reveal the secret (break-glass)');
    const done = await approveAndFollow(id);
    expect(done.digestInput.operation.params).toEqual({ recipient: me.keys.encryptionThumbprint });
    const envelope = (await ritaPage.locator('[data-testid^="result-envelope"]').textContent()) ?? '';
    const opened = await compactDecrypt(envelope, rita.keys.encryption.privateKey);
    expect(Buffer.from(opened.plaintext).toString('utf8')).toBe(kube.kubeconfig());
  }, 90_000);

  (sshAvailable ? it : it.skip)('ssh.exec: a command as arguments, run on the pinned host', async () => {
    const { id } = await submitInUi('nr-ssh-web', 'ssh.exec', async (form) => {
      await form.getByLabel(/^Command/).fill('echo\nhello from the UI; not a second command');
    });
    const done = await approveAndFollow(id);
    expect(done.digestInput.operation.params).toEqual({ command: ['echo', 'hello from the UI; not a second command'] });
    await expect(ritaPage.getByTestId('result-standard-output').textContent()).resolves.toBe('hello from the UI; not a second command\n');
  }, 90_000);

  (sqlAdminUrl !== undefined ? it : it.skip)('sql.exec: a read-only statement; the rows are shown', async () => {
    const { id } = await submitInUi('nr-reports', 'sql.exec', async (form) => {
      await form.getByLabel(/^SQL statement/).fill('SELECT 41 + 1 AS answer');
      await expect(form.getByRole('checkbox', { name: /Read-only/ }).isChecked()).resolves.toBe(true);
    });
    const done = await approveAndFollow(id);
    expect(done.result).toMatchObject({ rowCount: 1, rows: [{ answer: 42 }] });
    await expect(ritaPage.getByTestId('result-rows').textContent()).resolves.toBe('1');
    await ritaPage.getByRole('cell', { name: '42' }).waitFor();
  }, 90_000);

  describe('a custodian whose keys live in this browser', () => {
    let olga: { id: string; username: string; password: string; http: Http };
    let olgaContext: BrowserContext;
    let olgaPage: Page;

    beforeAll(async () => {
      const user = await createUser(admin, 'nr-olga', ['operator']);
      olga = { ...user, username: 'nr-olga' };
      olgaPage = await newPage();
      olgaContext = olgaPage.context();
      await signIn(olgaPage, 'nr-olga', olga.password);
      await olgaPage.getByRole('link', { name: 'My keys' }).click();
      await olgaPage.getByLabel(/Make an encrypted backup/).uncheck();
      await olgaPage.getByLabel('Your current password').fill(olga.password);
      await olgaPage.getByRole('button', { name: 'Create and enrol keys' }).click();
      await olgaPage.locator('[data-testid="key-state"][data-state="ok"]').waitFor();
      const shared = await credential('nr-shared-key', { kind: 'signing-key', generate: { alg: 'ES256' } }, [olga.id, custodians[0]!.id]);
      await policy('nr-shared-signing', shared.id, [{ kind: 'sign' }]);
    }, 60_000);

    async function submitSign(text: string): Promise<string> {
      const res = await rita.http.post('/api/v1/requests', { credential: 'nr-shared-key', operation: { kind: 'sign', params: { payload: Buffer.from(text).toString('base64url'), format: 'raw' } }, reason: text });
      expect(res.status).toBe(201);
      return res.body.id;
    }

    it('the tab title counts the inbox', async () => {
      const id = await submitSign('title count');
      await olgaPage.getByRole('link', { name: 'Inbox' }).click();
      await olgaPage.waitForFunction(() => document.title === '(1) Inbox · quorumgate');
      expect((await rita.http.post(`/api/v1/requests/${id}/cancel`, {})).status).toBe(200);
      await olgaPage.waitForFunction(() => document.title === 'Inbox · quorumgate');
    }, 60_000);

    it('a tab whose live updates dropped offers no decision until it has reloaded the request', async () => {
      const id = await submitSign('stale tab');
      const page = olgaPage;
      await page.goto(`${gateway.url}/requests/${id}`);
      await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
      await page.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
      await expect(page.getByTestId('quorum').textContent()).resolves.toContain('0 of 2');
      const approveButton = page.getByRole('button', { name: 'Approve…' });
      await expect(approveButton.isEnabled()).resolves.toBe(true);
      // The decision panel sits below what would run: a reviewer reads before clicking.
      const [whatRuns, decision] = await Promise.all([page.getByRole('heading', { name: 'What would run' }).boundingBox(), page.getByTestId('decision-panel').boundingBox()]);
      expect(decision!.y).toBeGreaterThan(whatRuns!.y);

      // The stream drops (the server closes every connection) and cannot come back yet.
      await page.route('**/api/v1/events', (route) => route.abort());
      (gateway.app.getHttpServer() as import('node:http').Server).closeAllConnections();
      await page.getByTestId('stale-notice').waitFor();
      await page.getByTestId('decision-stale').waitFor();
      await expect(approveButton.isDisabled()).resolves.toBe(true);
      // Meanwhile the request changes; this page cannot know.
      const request = (await custodians[0]!.http.get(`/api/v1/requests/${id}`)).body;
      expect((await approve(custodians[0]!, request)).status).toBe(201);
      await page.waitForTimeout(1500);
      await expect(approveButton.isDisabled()).resolves.toBe(true);
      await expect(page.getByTestId('quorum').textContent()).resolves.toContain('0 of 2');

      // The stream is back: the page reloads the request before it offers a decision again.
      await page.unroute('**/api/v1/events');
      await page.getByTestId('stale-notice').waitFor({ state: 'detached', timeout: 30_000 });
      await expect(page.getByTestId('quorum').textContent()).resolves.toContain('1 of 2');
      await page.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
      await expect(approveInBrowser(page)).resolves.toBe('Approve and sign: sign 9 bytes with nr-shared-key');
      await page.locator('[data-testid="request-detail"][data-status="succeeded"]').waitFor();
      // One notice: the confirmation replaced whatever was shown before.
      expect(await page.getByTestId('decision-panel').locator('.notice').count()).toBe(1);
    }, 90_000);

    it('a refused decision shows the request as it now is, in a sentence, with the code for support in small print', async () => {
      const id = await submitSign('refused');
      // No live updates on this page at all: only the reload after the refusal can show what changed.
      const page = await newPage(olgaContext);
      await page.route('**/api/v1/events', (route) => route.abort());
      await page.goto(`${gateway.url}/requests/${id}`);
      await page.locator('[data-testid="digest-check"][data-ok="true"]').waitFor();
      // Between the click and the gateway, the requester cancels.
      await page.route(`**/api/v1/requests/${id}/approvals`, async (route) => {
        expect((await rita.http.post(`/api/v1/requests/${id}/cancel`, {})).status).toBe(200);
        await route.continue();
      });
      await approveInBrowser(page);
      const error = page.getByTestId('decision-error');
      await expect(error.getByTestId('problem-sentence').textContent()).resolves.toBe('This request no longer waits for decisions: it was decided, cancelled or has expired.');
      await expect(error.getByTestId('problem-reference').textContent()).resolves.toMatch(/reference REQUEST_NOT_PENDING · trace \S+/);
      await page.locator('[data-testid="request-detail"][data-status="cancelled"]').waitFor();
      expect(await page.getByRole('button', { name: 'Approve…' }).count()).toBe(0);
      expect((await admin.get(`/api/v1/requests/${id}`)).body).toMatchObject({ status: 'cancelled', approvals: [] });
    }, 90_000);
  });
});
