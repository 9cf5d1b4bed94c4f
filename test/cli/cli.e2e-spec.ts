// `qg` end to end: the compiled CLI (bin/qg.js → dist/, `npm test` builds first)
// spawned against a real gateway on the embedded database, running in this process.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { base64url, compactVerify, importJWK } from 'jose';
import { Http } from '../support/http.js';
import { createUser, generateSigningJwk } from '../support/quorum.js';
import { generateSshKeyPair } from '../support/peers/sshd.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../support/test-gateway.js';

const QG_BIN = fileURLToPath(new URL('../../bin/qg.js', import.meta.url));
const PASSPHRASE = 'correct horse battery staple';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  done: Promise<Run>;
  /** resolves with the first match of `pattern` in stderr so far or to come */
  stderrMatch(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Spawns `node bin/qg.js …` asynchronously: the gateway answers from this same process. */
function start(args: string[], env: Record<string, string>, input = ''): Running {
  const child = spawn(process.execPath, [QG_BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of [...waiters]) {
      const m = stderr.match(w.pattern);
      if (m !== null) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stdin.end(input);
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    done,
    stderrMatch(pattern, timeoutMs = 20000) {
      const now = stderr.match(pattern);
      if (now !== null) return Promise.resolve(now);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} in stderr within ${timeoutMs} ms; stderr so far:\n${stderr}`)), timeoutMs);
        waiters.push({ pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) });
        void done.then((r) => {
          clearTimeout(timer);
          const m = r.stderr.match(pattern);
          if (m !== null) resolve(m);
          else reject(new Error(`qg exited ${r.code} without ${pattern} in stderr:\n${r.stderr}`));
        });
      });
    },
  };
}

function qg(args: string[], env: Record<string, string>, input = ''): Promise<Run> {
  return start(args, env, input).done;
}

async function verifyRawSignature(publicJwk: any, payload: Buffer, signatureB64u: string): Promise<boolean> {
  const key = await crypto.subtle.importKey('jwk', publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, new Uint8Array(base64url.decode(signatureB64u)), new Uint8Array(payload));
}

interface CliUser {
  username: string;
  id: string;
  password: string;
  home: string;
  env: Record<string, string>;
}

describe('qg, the command-line client (embedded database)', () => {
  let gateway: TestGateway;
  let admin: Http;
  let lead: Http;
  let workdir: string;
  let operators: CliUser[];
  let auditor: CliUser;
  let automationEnv: Record<string, string>;
  let credential: any;
  let secretJson: string;
  let responder: CliUser;
  let payloadFile: string;
  const payload = Buffer.from('sha256:4f2a… dist/quorumgate-1.2.3.tgz\n');

  /** A person on their own machine: own HOME and config dir, logged in through `qg login`. */
  async function cliUser(username: string, roles: string[]): Promise<CliUser> {
    const user = await createUser(admin, username, roles);
    const home = join(workdir, username);
    const env = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), QG_URL: gateway.url, QG_KEY_PASSPHRASE: PASSPHRASE };
    const login = await qg(['login', username, '--password-stdin'], env, `${user.password}\n`);
    expect(login).toMatchObject({ code: 0 });
    return { username, id: user.id, password: user.password, home, env };
  }

  async function submitAndWait(extra: string[] = []): Promise<{ waiting: Running; id: string }> {
    const waiting = start(['request', 'sign', '--credential', credential.name, '--reason', 'release v1.2.3 (OPS-42)', '--payload-file', payloadFile, '--wait', ...extra], automationEnv);
    const [, id] = await waiting.stderrMatch(/request ([0-9a-f-]{36}) submitted/);
    return { waiting, id: id! };
  }

  beforeAll(async () => {
    gateway = await startTestGateway('embedded');
    workdir = await mkdtemp(join(tmpdir(), 'qg-cli-'));
    payloadFile = join(workdir, 'SHA256SUMS');
    await writeFile(payloadFile, payload);
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    lead = (await createUser(admin, 'cli-lead', ['security_lead'])).http;

    operators = [];
    for (const name of ['cli-op1', 'cli-op2', 'cli-op3']) {
      const op = await cliUser(name, ['operator']);
      expect(await qg(['keygen'], op.env)).toMatchObject({ code: 0 });
      expect(await qg(['enrol', '--password-stdin'], op.env, `${op.password}\n`)).toMatchObject({ code: 0 });
      operators.push(op);
    }
    auditor = await cliUser('cli-auditor', ['auditor']);

    responder = await cliUser('cli-responder', ['requester']);
    expect(await qg(['keygen'], responder.env)).toMatchObject({ code: 0 });
    const unconfirmed = await qg(['enrol', '--password-stdin'], responder.env, 'not-my-password\n');
    expect(unconfirmed.code).toBe(3);
    expect(unconfirmed.stderr).toMatch(/current password is wrong/);
    expect(await qg(['enrol', '--password-stdin'], responder.env, `${responder.password}\n`)).toMatchObject({ code: 0 });

    const signingKey = await generateSigningJwk();
    secretJson = JSON.stringify(signingKey.privateJwk);
    const created = await lead.post('/api/v1/credentials', {
      name: 'cli-release-key',
      kind: 'signing-key',
      secret: secretJson,
      custodians: operators.map((o) => o.id),
      threshold: 2,
    });
    expect(created.status).toBe(201);
    credential = created.body;
    const policy = await lead.post('/api/v1/policies', { name: 'cli-release-signing', credentialId: credential.id, operations: [{ kind: 'sign' }], approvals: { min: 2 } });
    expect(policy.status).toBe(201);
    const breakGlass = await lead.post('/api/v1/policies', {
      name: 'cli-break-glass',
      credentialId: credential.id,
      operations: [{ kind: 'reveal' }],
      approvals: { min: 2 },
      requesters: { users: [responder.id] },
    });
    expect(breakGlass.status).toBe(201);
    const account = await admin.post('/api/v1/service-accounts', { name: 'cli-ci', roles: ['requester'] });
    expect(account.status).toBe(201);
    const ciHome = join(workdir, 'ci');
    automationEnv = { HOME: ciHome, XDG_CONFIG_HOME: join(ciHome, '.config'), QG_URL: gateway.url, QG_TOKEN: account.body.token };
  }, 180_000);

  afterAll(async () => {
    await gateway?.close();
    if (workdir !== undefined) await rm(workdir, { recursive: true, force: true });
  });

  it('keeps the session token and the key file private (0600) and the private keys encrypted', async () => {
    const op = operators[0]!;
    const configFile = join(op.home, '.config', 'quorumgate', 'config.json');
    const keyFile = join(op.home, '.config', 'quorumgate', 'custodian-keys.json');
    expect((await stat(configFile)).mode & 0o777).toBe(0o600);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(op.home, '.config', 'quorumgate'))).mode & 0o777).toBe(0o700);
    const keyText = await readFile(keyFile, 'utf8');
    expect(keyText).not.toMatch(/"d"\s*:/);
    const me = await qg(['whoami', '--json'], op.env);
    expect(me.code).toBe(0);
    expect(JSON.parse(me.stdout)).toMatchObject({ username: op.username, keys: { signingThumbprint: expect.any(String) }, keyFile: { matchesEnrolled: true } });
    const wrong = await qg(['enrol'], { ...op.env, QG_KEY_PASSPHRASE: 'not the passphrase' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/does not open with this passphrase/);
  });

  it('signs: automation waits while two operators approve with --yes; the signature alone on stdout verifies', async () => {
    const { waiting, id } = await submitAndWait();

    const shown = await qg(['show', id], operators[0]!.env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('SIGN with the credential');
    expect(shown.stdout).toContain('OK (matches)');
    expect(shown.stdout).toContain('release v1.2.3 (OPS-42)');
    // Names come with the request: no id shortened to 8 characters where a name is known.
    expect(shown.stdout).toMatch(/^requester {3}service account cli-ci \([0-9a-f-]{36}\)$/m);

    const listed = await qg(['requests', '--approvable', '--json'], operators[1]!.env);
    expect(JSON.parse(listed.stdout).requests.map((r: any) => r.id)).toContain(id);
    expect(JSON.parse(listed.stdout).nextCursor).toBeNull();

    const first = await qg(['approve', id, '--yes'], operators[0]!.env);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('1 of 2 approvals');
    await waiting.stderrMatch(/approvals 1 of 2 \(cli-op1\)/);
    const second = await qg(['approve', id, '--yes', '--json'], operators[2]!.env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ decision: 'approve', request: { id, approvalsReceived: 2 } });

    const result = await waiting.done;
    expect(result.stderr).toContain('succeeded');
    expect(result.code).toBe(0);
    const signature = result.stdout.trim();
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(await verifyRawSignature(credential.publicInfo.publicJwk, payload, signature)).toBe(true);

    // A custodian sees the result's hash, never the result (spec §4 "Results").
    const seenByCustodian = await qg(['show', id], operators[0]!.env);
    expect(seenByCustodian.code).toBe(0);
    const asJson = JSON.parse((await qg(['show', id, '--json'], operators[0]!.env)).stdout);
    expect(asJson.resultSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(seenByCustodian.stdout).toContain(`result hash sha256:${asJson.resultSha256 as string}`);
    expect(seenByCustodian.stdout).not.toContain(signature);
  });

  it('prints a JWS with --format jws, and the whole request with --json', async () => {
    const waiting = start(['request', 'sign', '-c', credential.name, '-r', 'tag v1.2.3', '--format', 'jws', '--wait', '--json'], automationEnv, '{"tag":"v1.2.3"}');
    const [, id] = await waiting.stderrMatch(/request ([0-9a-f-]{36}) submitted/);
    expect((await qg(['approve', id!, '--yes'], operators[1]!.env)).code).toBe(0);
    expect((await qg(['approve', id!, '--yes'], operators[2]!.env)).code).toBe(0);
    const result = await waiting.done;
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ id, status: 'succeeded', result: { jws: expect.any(String) } });
    const verified = await compactVerify(body.result.jws, await importJWK(credential.publicInfo.publicJwk, 'ES256'));
    expect(Buffer.from(verified.payload).toString()).toBe('{"tag":"v1.2.3"}');
  });

  it('reveal (break-glass): the secret comes sealed to the requester, and qg opens it with their key file', async () => {
    const waiting = start(['request', 'reveal', '-c', credential.name, '-r', 'INC-77 manual rotation', '--wait'], responder.env);
    const [, id] = await waiting.stderrMatch(/request ([0-9a-f-]{36}) submitted/);
    const shown = await qg(['show', id!], operators[0]!.env);
    expect(shown.stdout).toContain('REVEAL');
    expect((await qg(['approve', id!, '--yes'], operators[0]!.env)).code).toBe(0);
    expect((await qg(['approve', id!, '--yes'], operators[1]!.env)).code).toBe(0);
    const result = await waiting.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(secretJson);
    // the gateway stored only the envelope
    const [row] = await gateway.ctx.dataSource.query('SELECT result::text AS result FROM requests WHERE id = $1', [id]);
    expect(row.result).not.toContain(JSON.parse(secretJson).d);
  });

  it('refuses to approve without a terminal and without --yes (exit 2), and records nothing', async () => {
    const { waiting, id } = await submitAndWait(['--timeout', '30', '--cancel-on-timeout']);
    const refused = await qg(['approve', id], operators[0]!.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    const view = await admin.get(`/api/v1/requests/${id}`);
    expect(view.body.approvals).toEqual([]);
    expect((await qg(['cancel', id], automationEnv)).code).toBe(0);
    const result = await waiting.done;
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cancelled/);
  });

  it('a reject makes the waiting command exit 3', async () => {
    const { waiting, id } = await submitAndWait();
    const rejected = await qg(['reject', id, '--reason', 'not in the change window', '--yes'], operators[1]!.env);
    expect(rejected.code).toBe(0);
    const result = await waiting.done;
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('was rejected by cli-op2 ("not in the change window")');
  });

  it('exits 4 when --timeout elapses before the quorum', async () => {
    const started = Date.now();
    const result = await qg(['request', 'sign', '-c', credential.name, '-r', 'nobody will approve this', '--payload-file', payloadFile, '--wait', '--timeout', '2'], automationEnv);
    expect(result.code).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(result.stderr).toMatch(/timed out after 2s/);
    const id = /request ([0-9a-f-]{36}) submitted/.exec(result.stderr)?.[1];
    expect((await admin.get(`/api/v1/requests/${id}`)).body.status).toBe('pending');
    const waited = await qg(['wait', id!, '--timeout', '1', '--cancel-on-timeout', '--json'], automationEnv);
    expect(waited.code).toBe(4);
    expect(JSON.parse(waited.stdout)).toMatchObject({ id, status: 'cancelled', timedOut: true });
  });

  it('replays a submission with the same --idempotency-key instead of creating a second request', async () => {
    const args = ['request', 'sign', '-c', credential.name, '-r', 'release v1.2.4 (retry-safe)', '--payload-file', payloadFile, '--idempotency-key', 'ci-run-42-attempt-1'];
    const first = await qg(args, automationEnv);
    const again = await qg(args, automationEnv);
    expect(first.code).toBe(0);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(first.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(again.stderr).toContain('already submitted (same Idempotency-Key)');
    expect((await qg(['cancel', first.stdout.trim()], automationEnv)).code).toBe(0);
  });

  it('checkin: proves every held share with the key file (spec §4a), names what failed, and the gateway records it', async () => {
    const op = operators[1]!;
    const all = await qg(['checkin'], op.env);
    expect(all).toMatchObject({ code: 0, stderr: '' });
    expect(all.stdout).toMatch(/^checked in to cli-release-key at \d{4}-\d{2}-\d{2}T[\d:.]+Z\n$/);
    const health = (await admin.get(`/api/v1/credentials/${credential.id}/health`)).body;
    expect(health.groups[0].custodians.find((c: any) => c.userId === op.id).lastCheckInAt).toEqual(expect.any(String));
    const json = await qg(['checkin', credential.name, 'no-such-credential', '--json'], op.env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ checkIns: [{ credential: 'cli-release-key', at: expect.any(String) }, { credential: 'no-such-credential', error: 'no such credential' }] });
    const notMine = await qg(['checkin', credential.name], auditor.env);
    expect(notMine.code).toBe(2);
    expect(notMine.stderr).toMatch(/no enrolled keys/);
    const service = await qg(['checkin'], automationEnv);
    expect(service.code).toBe(3);
    const checkIns = (await admin.get('/api/v1/audit?limit=1000')).body.entries.filter((e: any) => e.action === 'credential.checked_in' && e.actor === `user:${op.id}`);
    expect(checkIns).toHaveLength(2);
  });

  it('sends an ssh command as one shell line, or with --argv as an argument vector', async () => {
    const key = generateSshKeyPair('ed25519');
    const host = await lead.post('/api/v1/credentials', {
      name: 'cli-db-host',
      kind: 'ssh-key',
      secret: key.privateKey,
      config: { host: 'db-1.internal', username: 'ops', hostKeySha256: `SHA256:${'A'.repeat(43)}` },
      custodians: operators.map((o) => o.id),
      threshold: 2,
    });
    expect(host.status).toBe(201);
    const policy = await lead.post('/api/v1/policies', { name: 'cli-db-host-any', credentialId: host.body.id, operations: [{ kind: 'ssh.exec' }], approvals: { min: 2 } });
    expect(policy.status).toBe(201);
    const words = ['grep', '-r', 'disk full', '$(id)', '/var/log'];
    const line = await qg(['request', 'ssh', '-c', 'cli-db-host', '-r', 'OPS-12 grep', '--json', '--', ...words], automationEnv);
    expect(line.code).toBe(0);
    expect(JSON.parse(line.stdout).digestInput.operation.params).toEqual({ command: words.join(' ') });
    const argv = await qg(['request', 'ssh', '-c', 'cli-db-host', '-r', 'OPS-12 grep', '--argv', '--json', '--', ...words], automationEnv);
    expect(argv.code).toBe(0);
    expect(JSON.parse(argv.stdout).digestInput.operation.params).toEqual({ command: words });
  });

  it('reports usage errors (2), denials (3) and the API detail in one line', async () => {
    const missing = await qg(['request', 'sign', '--reason', 'no credential given'], automationEnv);
    expect(missing.code).toBe(2);
    const wrongKind = await qg(['request', 'http', '-c', credential.name, '-r', 'a signing key has no http', '--method', 'POST', '--path', '/x'], automationEnv);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toMatch(/^qg: a signing-key credential cannot run http \(HTTP 400 VALIDATION_FAILED\)\n$/);
    const notRequester = await qg(['request', 'sign', '-c', credential.name, '-r', 'operators do not submit', '--payload-file', payloadFile], operators[0]!.env);
    expect(notRequester.code).toBe(3);
    expect(notRequester.stderr).toMatch(/^qg: [^\n]*\(HTTP 403 [A-Z_]+\)\n$/);
    const badLogin = await qg(['login', 'cli-op1', '--password-stdin', '--url', gateway.url], { HOME: join(workdir, 'nobody') }, 'wrong password\n');
    expect(badLogin.code).toBe(3);
    expect(badLogin.stderr).toContain('wrong username or password');
    const serviceApproves = await qg(['approve', '00000000-0000-0000-0000-000000000000', '--yes'], automationEnv);
    expect(serviceApproves.code).toBe(3);
  });

  it('passwd: a password an admin chose is named at login and at the refused call, and qg passwd changes it and logs in again', async () => {
    const created = await admin.post('/api/v1/users', { username: 'cli-newbie', password: 'chosen-by-the-admin', displayName: 'Newbie', roles: ['requester'] });
    expect(created.status).toBe(201);
    const home = join(workdir, 'cli-newbie');
    const env = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), QG_URL: gateway.url };
    const login = await qg(['login', 'cli-newbie', '--password-stdin'], env, 'chosen-by-the-admin\n');
    expect(login.code).toBe(0);
    expect(login.stderr).toContain('change it first with qg passwd');
    const refused = await qg(['requests'], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/\(HTTP 403 PASSWORD_CHANGE_REQUIRED\)\nqg: your password was chosen by an admin: change it first with qg passwd/);
    expect((await qg(['passwd', '--password-stdin'], env, 'chosen-by-the-admin\n')).code).toBe(2);
    expect((await qg(['passwd', '--password-stdin'], env, 'chosen-by-the-admin\nshort\n')).code).toBe(2);
    const wrong = await qg(['passwd', '--password-stdin'], env, 'not-the-current-one\nnewbies-own-password\n');
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('current password is wrong');
    const changed = await qg(['passwd', '--password-stdin'], env, 'chosen-by-the-admin\nnewbies-own-password\n');
    expect(changed).toMatchObject({ code: 0, stdout: expect.stringContaining('password changed for cli-newbie') });
    // The cached session is the new one: it works without the flag.
    expect((await qg(['requests'], env)).code).toBe(0);
    expect((await new Http(gateway.url).post('/api/v1/auth/login', { username: 'cli-newbie', password: 'chosen-by-the-admin' })).status).toBe(401);
    const service = await qg(['passwd', '--password-stdin'], automationEnv, 'x\ny\n');
    expect(service.code).toBe(2);
    expect(service.stderr).toContain('a service account has no password');
  });

  it('says MISMATCH loudly and refuses to sign when the stored request content was altered', async () => {
    const { waiting, id } = await submitAndWait(['--timeout', '60']);
    await gateway.ctx.dataSource.query(`UPDATE requests SET digest_input = jsonb_set(digest_input, '{reason}', '"routine rotation"') WHERE id = $1`, [id]);
    const shown = await qg(['show', id], operators[0]!.env);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain('DIGEST MISMATCH');
    const refused = await qg(['approve', id, '--yes'], operators[0]!.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/DIGEST MISMATCH/);
    expect((await admin.get(`/api/v1/requests/${id}`)).body.approvals).toEqual([]);
    expect((await qg(['cancel', id], automationEnv)).code).toBe(0);
    expect((await waiting.done).code).toBe(3);
  });

  it('refuses to sign when what the gateway shows differs from what its digest covers, even with a matching digest', async () => {
    const { waiting, id } = await submitAndWait(['--timeout', '60']);
    // The signed digest input is intact; only the column a careless client would display is changed.
    await gateway.ctx.dataSource.query(`UPDATE requests SET reason = 'routine rotation' WHERE id = $1`, [id]);
    const refused = await qg(['approve', id, '--yes'], operators[0]!.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/DIGEST MISMATCH/);
    expect(refused.stderr).toContain('reason differ from the signed content');
    expect((await admin.get(`/api/v1/requests/${id}`)).body.approvals).toEqual([]);
    expect((await qg(['cancel', id], automationEnv)).code).toBe(0);
    expect((await waiting.done).code).toBe(3);
  });

  it('audit verify passes on an intact log and names the seq of an altered row', async () => {
    expect((await qg(['audit', 'checkpoint'], auditor.env)).code).toBe(0);
    const ok = await qg(['audit', 'verify'], auditor.env);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/audit log OK: \d+ entries/);
    // The maintenance sweep adds its own checkpoint every minute: the CLI checks as many as were stored while it ran.
    const countCheckpoints = async () => Number((await gateway.ctx.dataSource.query('SELECT count(*) AS n FROM audit_checkpoints'))[0].n);
    const before = await countCheckpoints();
    const okJson = JSON.parse((await qg(['audit', 'verify', '--json'], auditor.env)).stdout);
    const after = await countCheckpoints();
    expect(before).toBeGreaterThanOrEqual(1);
    expect(okJson).toMatchObject({ ok: true });
    expect(okJson.checkpoints).toBeGreaterThanOrEqual(before);
    expect(okJson.checkpoints).toBeLessThanOrEqual(after);
    expect(okJson.entries).toBeGreaterThan(10);

    const seq = 7;
    const db = gateway.ctx.dataSource;
    await db.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete');
    try {
      await db.query(`UPDATE audit_log SET actor = 'user:mallory' WHERE seq = $1`, [seq]);
    } finally {
      await db.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete');
    }
    const broken = await qg(['audit', 'verify'], auditor.env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`BROKEN at seq ${seq}`);
    const brokenJson = await qg(['audit', 'verify', '--json'], auditor.env);
    expect(brokenJson.code).toBe(1);
    expect(JSON.parse(brokenJson.stdout)).toMatchObject({ ok: false, firstBadSeq: seq });
  });
  it('shows each sharing group\'s progress in show and --wait for a grouped credential, and signs once every group is met', async () => {
    const [op1, op2, op3] = operators as [CliUser, CliUser, CliUser];
    const created = await lead.post('/api/v1/credentials', {
      name: 'cli-grouped-key',
      kind: 'signing-key',
      secret: secretJson,
      sharing: {
        groups: [
          { name: 'sre', threshold: 2, custodians: [op1.id, op2.id] },
          { name: 'security', threshold: 1, custodians: [op3.id] },
        ],
      },
    });
    expect(created.status).toBe(201);
    expect((await lead.post('/api/v1/policies', { name: 'cli-grouped-signing', credentialId: created.body.id, operations: [{ kind: 'sign' }], approvals: { min: 3 } })).status).toBe(201);
    const waiting = start(['request', 'sign', '-c', 'cli-grouped-key', '-r', 'release v2 (OPS-99)', '--payload-file', payloadFile, '--wait'], automationEnv);
    const [, id] = await waiting.stderrMatch(/request ([0-9a-f-]{36}) submitted/);
    await waiting.stderrMatch(/sre 0 of 2 \(needs 2 of cli-op1, cli-op2\) · security 0 of 1 \(needs 1 of cli-op3\)/);
    expect((await qg(['approve', id!, '--yes'], op1.env)).code).toBe(0);
    expect((await qg(['approve', id!, '--yes'], op2.env)).code).toBe(0);
    const shown = await qg(['show', id!], op3.env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('sre 2 of 2 ✓ · security 0 of 1 (needs 1 of cli-op3)');
    await waiting.stderrMatch(/sre 2 of 2 ✓ · security 0 of 1/);
    expect((await qg(['approve', id!, '--yes'], op3.env)).code).toBe(0);
    const result = await waiting.done;
    expect(result.code).toBe(0);
    expect(await verifyRawSignature(created.body.publicInfo.publicJwk, payload, result.stdout.trim())).toBe(true);
  });
});
