/**
 * The audit log for auditors, key backups made later, "not allowed" pages, and every
 * page for every role checked with axe-core and at a phone's 390 px width, in a real
 * Chromium against a real gateway on an embedded database. Build the UI first
 * (`npm run build:web`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Http } from '../support/http.js';
import { createUser, setUpSigningQuorum, signRequestBody, type QuorumSetup } from '../support/quorum.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../support/test-gateway.js';

const CHROMIUM = process.env.QG_CHROMIUM ?? '/usr/bin/chromium';
const WEB_DIST = resolve(process.cwd(), 'apps/web/dist/index.html');
const AXE = resolve(process.cwd(), 'node_modules/axe-core/axe.min.js');
const PASSPHRASE = 'a passphrase for the later backup';
const browserMissing = !existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';

interface Who {
  username: string;
  password: string;
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

(browserMissing ? (inCi ? describe : describe.skip) : describe)('audit log, key backups, and every page accessible and phone-sized', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let q: QuorumSetup;
  let requestId: string;
  let ciAccountId: string;
  const contexts: BrowserContext[] = [];
  const people: Record<'admin' | 'operator' | 'requester' | 'auditor' | 'kim', Who> = {} as never;

  /** `bypassCSP` only to inject axe-core: the UI's CSP refuses inline scripts, as it should. */
  async function newPage(viewport = { width: 1280, height: 860 }, bypassCSP = false): Promise<Page> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'UTC', acceptDownloads: true, bypassCSP });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    return page;
  }

  async function signIn(page: Page, who: Who): Promise<void> {
    await page.goto(`${gateway.url}/`);
    await page.getByLabel('Username').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  /** Opens `path` in the signed-in page and waits until nothing on it is loading any more. */
  async function open(page: Page, path: string): Promise<void> {
    await page.goto(`${gateway.url}${path}`);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.locator('main h1').first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.loading').length === 0);
  }

  async function download(page: Page, button: string): Promise<string> {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
    const chunks: Buffer[] = [];
    for await (const chunk of await file.createReadStream()) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  beforeAll(async () => {
    if (browserMissing) throw new Error(`CI=true and ${CHROMIUM} is missing`);
    if (!existsSync(WEB_DIST)) throw new Error('the web UI is not built: run `npm run build:web` first');
    gateway = await startTestGateway('embedded');
    const anonymous = new Http(gateway.url);
    q = await setUpSigningQuorum(anonymous, { n: 2, k: 2, prefix: 'ax' });
    ciAccountId = (await q.admin.get('/api/v1/service-accounts')).body.serviceAccounts.find((a: { name: string }) => a.name === 'ax-ci').id;
    const submitted = await q.automation.post('/api/v1/requests', signRequestBody('ax-release-key'));
    expect(submitted.status).toBe(201);
    requestId = submitted.body.id;
    const rita = await createUser(q.admin, 'rita', ['requester']);
    const audrey = await createUser(q.admin, 'audrey', ['auditor']);
    const kim = await createUser(q.admin, 'kim', ['operator']);
    people.admin = { username: 'admin', password: ADMIN_PASSWORD };
    people.operator = { username: 'ax-op1', password: 'ax-op1-password-for-tests' };
    people.requester = { username: 'rita', password: rita.password };
    people.auditor = { username: 'audrey', password: audrey.password };
    people.kim = { username: 'kim', password: kim.password };
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await gateway?.close();
  });

  it('a forbidden URL shows a "not allowed" page, not a half-rendered page with an error', async () => {
    const page = await newPage();
    await signIn(page, people.requester);
    for (const path of ['/users', '/audit', '/credentials', '/my-credentials']) {
      await open(page, path);
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
      expect(await page.getByRole('alert').count()).toBe(0);
      expect(await page.getByRole('table').count()).toBe(0);
    }
    // A requester who may not use reveal is not urged to create keys.
    expect(await page.getByTestId('key-warning').count()).toBe(0);
  }, 60_000);

  it('a custodian takes the key backup later; the UI remembers it; the backup restores the keys in another browser', async () => {
    const page = await newPage();
    await signIn(page, people.kim);
    await page.getByRole('link', { name: 'My keys' }).click();
    await page.getByLabel(/Make an encrypted backup/).uncheck();
    await expect(page.getByLabel(/Let me make the backup later/).isChecked()).resolves.toBe(true);
    await page.getByLabel('Your current password').fill(people.kim.password);
    await page.getByRole('button', { name: 'Create and enrol keys' }).click();
    await page.locator('[data-testid="key-state"][data-state="ok"]').waitFor();
    await page.locator('[data-testid="backup-state"][data-state="pending"]').waitFor();
    await page.getByTestId('backup-warning').waitFor();

    await page.getByTestId('later-passphrase').fill(PASSPHRASE);
    await page.getByTestId('later-confirm').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Make the backup now' }).click();
    await page.locator('[data-testid="backup-state"][data-state="made"]').waitFor();
    const backup = await page.getByTestId('backup-text').inputValue();
    expect(JSON.parse(backup)).toMatchObject({ v: 1, kdf: 'PBKDF2-SHA256' });
    expect(await page.getByTestId('backup-warning').count()).toBe(0);

    // Remembered across a reload; the sealed copy is gone and the keys stay non-extractable.
    await open(page, '/keys');
    await page.locator('[data-testid="backup-state"][data-state="made"]').waitFor();
    const kimId = (await q.admin.get('/api/v1/users')).body.users.find((u: { username: string }) => u.username === 'kim').id;
    const stored = await page.evaluate(
      (userId) =>
        new Promise<{ backup: unknown; extractable: boolean[] }>((done, fail) => {
          const req = indexedDB.open('quorumgate');
          req.onerror = () => fail(req.error);
          req.onsuccess = () => {
            const get = req.result.transaction('custodian-keys').objectStore('custodian-keys').get(userId);
            get.onsuccess = () => done({ backup: get.result.backup, extractable: [get.result.keys.encryption.privateKey.extractable, get.result.keys.signing.privateKey.extractable] });
            get.onerror = () => fail(get.error);
          };
        }),
      kimId,
    );
    expect(stored.backup).toEqual({ state: 'made', at: expect.any(String) });
    expect(stored.extractable).toEqual([false, false]);

    const other = await newPage();
    await signIn(other, people.kim);
    await open(other, '/keys');
    await other.getByLabel('…or paste the backup text').fill(backup);
    await other.locator('form[aria-labelledby="restore-title"]').getByLabel('Backup passphrase').fill(PASSPHRASE);
    await other.getByRole('button', { name: 'Restore keys' }).click();
    await other.locator('[data-testid="key-state"][data-state="ok"]').waitFor();
    await other.locator('[data-testid="backup-state"][data-state="restored"]').waitFor();
  }, 120_000);

  it('an auditor reads the log newest first, filters it by actor, and exports the filtered entries as JSON lines and CSV', async () => {
    const page = await newPage();
    await signIn(page, people.auditor);
    await open(page, '/audit');
    await page.locator('[data-testid="audit-verify"][data-ok="true"]').waitFor();
    const seqs = await page.locator('[data-testid="audit-table"] tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));
    expect(seqs.length).toBeGreaterThan(5);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));

    const filters = page.getByTestId('audit-filters');
    await filters.getByLabel('Actor').selectOption({ label: 'ax-ci (service account)' });
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByTestId('audit-shown').filter({ hasText: 'matching' }).waitFor();
    const actors = await page.locator('[data-testid="audit-table"] tbody tr td:nth-child(3)').allInnerTexts();
    expect(actors.length).toBeGreaterThan(0);
    expect(new Set(actors)).toEqual(new Set(['ax-ci (service account)']));
    // The data reads as key/value pairs, with the JSON on demand.
    await page.locator('[data-testid="audit-table"] dl.kv').first().waitFor();

    const expected = (await q.admin.get(`/api/v1/audit?actor=service_account:${ciAccountId}&limit=1000`)).body.entries;
    expect(expected.length).toBe(actors.length);

    const jsonl = await download(page, 'Export JSON lines');
    const lines = jsonl.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(expected);

    const csv = await download(page, 'Export CSV');
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('seq,at,actor,actorName,action,subject,data,prevHash,hash');
    expect(rows).toHaveLength(expected.length + 1);
    for (const [i, row] of rows.slice(1).entries()) {
      expect(row.startsWith(`${expected[i].seq},${expected[i].at},service_account:${ciAccountId},ax-ci (service account),${expected[i].action},`)).toBe(true);
      expect(row.endsWith(`,${expected[i].prevHash},${expected[i].hash}`)).toBe(true);
    }
  }, 90_000);

  /** Every page each role reaches, the request page and a forbidden and an unknown URL included. */
  const pagesByRole = (): [keyof typeof people, string[]][] => [
    ['admin', ['/requests', '/keys', '/me/notifications', '/credentials', '/policies', '/users', '/service-accounts', '/notifications', '/audit', `/requests/${requestId}`, '/no-such-page']],
    ['operator', ['/inbox', `/requests/${requestId}`, '/requests', '/my-credentials', '/keys', '/me/notifications']],
    ['requester', ['/requests', '/keys', '/me/notifications', '/users']],
    ['auditor', ['/audit', '/requests', `/requests/${requestId}`]],
  ];

  it('axe-core finds no serious or critical violation on any page, for any role', async () => {
    const axe = readFileSync(AXE, 'utf8');
    const found: string[] = [];
    for (const [role, paths] of pagesByRole()) {
      const page = await newPage(undefined, true);
      await signIn(page, people[role]);
      for (const path of paths) {
        await open(page, path);
        await page.addScriptTag({ content: axe });
        const { violations, passes } = await page.evaluate(async () => {
          const result = await (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }).axe.run(document, {
            runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
          });
          return { violations: result.violations, passes: result.passes.length };
        });
        // axe ran its rules on this page (a page it could not read would pass nothing).
        expect(passes).toBeGreaterThan(5);
        for (const v of violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
          found.push(`${role} ${path}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
        }
      }
    }
    expect(found).toEqual([]);
  }, 240_000);

  it('every page fits a 390 px wide phone screen without sideways page scrolling', async () => {
    const wide: string[] = [];
    for (const [role, paths] of pagesByRole()) {
      const page = await newPage({ width: 390, height: 844 });
      await signIn(page, people[role]);
      for (const path of paths) {
        await open(page, path);
        const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
        if (scrollWidth > clientWidth) wide.push(`${role} ${path}: ${scrollWidth}px > ${clientWidth}px`);
      }
    }
    expect(wide).toEqual([]);
  }, 240_000);

  it('the sign-in page passes axe and fits 390 px too; keyboard focus is visible', async () => {
    const page = await newPage({ width: 390, height: 844 }, true);
    const refused: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) refused.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${gateway.url}/`);
    await page.getByLabel('Username').waitFor();
    // A signed-out load asks nothing that answers 401 (no red line in the console).
    expect(refused).toEqual([]);
    await page.addScriptTag({ content: readFileSync(AXE, 'utf8') });
    const serious = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: AxeViolation[] }> } }).axe.run(document);
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    });
    expect(serious).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return { tag: el.tagName, outline: getComputedStyle(el).outlineStyle };
    });
    expect(outline.tag).not.toBe('BODY');
    expect(outline.outline).not.toBe('none');
  }, 60_000);
});
