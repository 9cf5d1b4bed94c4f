import { existsSync } from 'node:fs';
import { compactDecrypt } from 'jose';
import { EXEC_OUTPUT_LIMIT, sshFingerprint } from '../libs/executors/index.js';
import { Http } from './support/http.js';
import { dumpAllTables, findLeaks } from './support/leak-scan.js';
import { startFakeKubeApi, type FakeKubeApi } from './support/peers/kube-api-server.js';
import { startSqlPeer, type SqlPeer } from './support/peers/postgres.js';
import { acceptedKeys, generateSshKeyPair, sshdAvailable, startSshd, type TestSshd } from './support/peers/sshd.js';
import { approve, createOperator, createUser, type Operator } from './support/quorum.js';
import { realDatabaseUrl, testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './support/test-gateway.js';

// Each operation kind end to end over HTTP: a 2-of-2 quorum approves, the
// gateway rebuilds the credential and runs it against a real peer on loopback
// (a fake Kubernetes API server that checks the token, OpenSSH's sshd, the
// PostgreSQL server), and the result comes back. The gateway's own database is
// the real server when there is one (else embedded): the operations do not
// depend on it, so one kind is enough.

const KUBE_TOKEN = 'qg-e2e-kube-token-8c4f2a9e61d05b37';
const WRONG_KUBE_TOKEN = 'qg-e2e-stale-token-0f9e8d7c6b5a4321';
const OPERATION_TIMEOUT_SECONDS = 3;

const sshAvailable = sshdAvailable();
const sqlAdminUrl = realDatabaseUrl();
if (!sshAvailable) process.stderr.write('operations e2e: /usr/sbin/sshd is not installed (apt-get install openssh-server): skipping ssh.exec\n');
if (sqlAdminUrl === undefined) process.stderr.write('operations e2e: QG_TEST_DATABASE_URL is not set: skipping sql.exec\n');

describe('operations end to end: kubernetes.exec, ssh.exec, sql.exec and reveal', () => {
  let gateway: TestGateway;
  let admin: Http;
  let lead: Http;
  let custodians: Operator[];
  /** A requester who also enrolled keys (so reveal can seal to them); not a custodian. */
  let requester: Operator;
  let kube: FakeKubeApi;
  /** Every secret given to the gateway, for the leak scan at the end. */
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    [gateway, kube] = await Promise.all([
      startTestGateway(testDatabaseKinds().at(-1) ?? 'embedded', { operationTimeoutSeconds: OPERATION_TIMEOUT_SECONDS }),
      startFakeKubeApi(KUBE_TOKEN),
    ]);
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    lead = (await createUser(admin, 'ops-lead', ['security_lead'])).http;
    custodians = [await createOperator(admin, 'ops-c1'), await createOperator(admin, 'ops-c2')];
    requester = await createOperator(admin, 'ops-requester', ['requester']);
  });
  afterAll(async () => {
    await gateway?.close();
    await kube?.close();
  });

  async function credential(name: string, kind: string, secret: string, config?: Record<string, unknown>): Promise<any> {
    secrets[name] = secret;
    const res = await lead.post('/api/v1/credentials', { name, kind, secret, ...(config ? { config } : {}), custodians: custodians.map((c) => c.id), threshold: 2 });
    if (res.status !== 201) throw new Error(`credential ${name}: ${res.status} ${res.text}`);
    return res.body;
  }

  async function policy(name: string, credentialId: string, operations: { kind: string; constraints?: Record<string, unknown> }[]): Promise<void> {
    const res = await lead.post('/api/v1/policies', { name, credentialId, operations, approvals: { min: 2 } });
    if (res.status !== 201) throw new Error(`policy ${name}: ${res.status} ${res.text}`);
  }

  function submit(credentialName: string, kind: string, params: Record<string, unknown>, as: Http = requester.http) {
    return as.post('/api/v1/requests', { credential: credentialName, operation: { kind, params }, reason: `e2e ${kind}` });
  }

  /** Submit, both custodians approve, wait for the final state. */
  async function runApproved(credentialName: string, kind: string, params: Record<string, unknown>): Promise<any> {
    const submitted = await submit(credentialName, kind, params);
    expect(submitted.status).toBe(201);
    for (const custodian of custodians) expect((await approve(custodian, submitted.body)).status).toBe(201);
    const done = await requester.http.get(`/api/v1/requests/${submitted.body.id}/wait?timeoutSeconds=20`);
    expect(['succeeded', 'failed']).toContain(done.body.status);
    return done.body;
  }

  async function expectRefusedAtSubmit(credentialName: string, kind: string, params: Record<string, unknown>, status = 403): Promise<void> {
    const before = (await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM requests'))[0].n;
    const res = await submit(credentialName, kind, params);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM requests'))[0].n).toBe(before);
  }

  describe('kubernetes.exec', () => {
    beforeAll(async () => {
      const prod = await credential('kube-prod', 'kubeconfig', kube.kubeconfig());
      expect(prod.publicInfo).toEqual({ context: 'fake', server: `${kube.server}/`, auth: 'token' });
      await policy('kube-prod-exec', prod.id, [{ kind: 'kubernetes.exec', constraints: { namespace: 'prod-*' } }, { kind: 'reveal' }]);
      const cert = await credential('kube-cert', 'kubeconfig', kube.kubeconfig({ clientCertificate: true }));
      secrets['kube client key'] = kube.pki.client.key;
      await policy('kube-cert-exec', cert.id, [{ kind: 'kubernetes.exec' }]);
      const stale = await credential('kube-stale', 'kubeconfig', kube.kubeconfig({ token: WRONG_KUBE_TOKEN }));
      await policy('kube-stale-exec', stale.id, [{ kind: 'kubernetes.exec' }]);
    });

    it('runs the command in the pod with the kubeconfig token after the quorum approves', async () => {
      const before = kube.execs.length;
      const done = await runApproved('kube-prod', 'kubernetes.exec', { namespace: 'prod-eu', pod: 'api-0', container: 'app', command: ['cat', '/etc/hostname', '--exit=3'] });
      expect(done.status).toBe('succeeded');
      expect(done.result).toEqual({ stdout: 'cat /etc/hostname --exit=3\n', stderr: 'ran in prod-eu/api-0/app\n', exitCode: 3 });
      expect(kube.execs.length).toBe(before + 1);
      expect(kube.execs.at(-1)).toMatchObject({ identity: 'token', namespace: 'prod-eu', pod: 'api-0', container: 'app', command: ['cat', '/etc/hostname', '--exit=3'] });
    });

    it('authenticates with the kubeconfig client certificate', async () => {
      const done = await runApproved('kube-cert', 'kubernetes.exec', { namespace: 'default', pod: 'debug', command: ['id'] });
      expect(done.status).toBe('succeeded');
      expect(kube.execs.at(-1)?.identity).toBe(`cert:${kube.clientName}`);
    });

    it('refuses at submit (403) a namespace the policy does not admit', async () => {
      await expectRefusedAtSubmit('kube-prod', 'kubernetes.exec', { namespace: 'staging', pod: 'api-0', command: ['id'] });
    });

    it('fails closed when the API server refuses the token', async () => {
      const refusedBefore = kube.refused.length;
      const execsBefore = kube.execs.length;
      const done = await runApproved('kube-stale', 'kubernetes.exec', { namespace: 'prod-eu', pod: 'api-0', command: ['id'] });
      expect(done.status).toBe('failed');
      expect(done.result).toEqual({ error: expect.stringMatching(/refused the credentials \(HTTP 401/), code: 'UPSTREAM_FAILED' });
      expect(kube.refused.slice(refusedBefore)).toEqual([{ status: 401, path: '/api/v1/namespaces/prod-eu/pods/api-0/exec' }]);
      expect(kube.execs.length).toBe(execsBefore);
    });

    it('cuts output at 64 KiB with a visible marker', async () => {
      const done = await runApproved('kube-prod', 'kubernetes.exec', { namespace: 'prod-eu', pod: 'api-0', command: ['flood', '100000'] });
      expect(done.status).toBe('succeeded');
      expect(done.result.truncated).toBe(true);
      expect(done.result.stdout).toHaveLength(EXEC_OUTPUT_LIMIT);
    });

    it('ends failed with a clear reason when the time limit passes, and closes the stream', async () => {
      const done = await runApproved('kube-prod', 'kubernetes.exec', { namespace: 'prod-eu', pod: 'api-0', command: ['sleep'] });
      expect(done.status).toBe('failed');
      expect(done.result).toEqual({ error: `operation kubernetes.exec did not finish within ${OPERATION_TIMEOUT_SECONDS * 1000} ms`, code: 'TIMEOUT' });
      await kube.execs.at(-1)?.closed;
    });
  });

  (sshAvailable ? describe : describe.skip)('ssh.exec against OpenSSH sshd', () => {
    let sshd: TestSshd;
    let web: any;
    let shell: any;

    beforeAll(async () => {
      sshd = await startSshd();
      const key = generateSshKeyPair('ed25519');
      const config = { host: sshd.host, port: sshd.port, username: sshd.username, hostKeySha256: sshd.hostKeySha256 };
      web = await credential('ssh-web', 'ssh-key', key.privateKey, config);
      // The public key as the gateway publishes it is what goes into authorized_keys.
      sshd.authorize(web.publicInfo.publicKey);
      await policy('ssh-web-echo', web.id, [
        { kind: 'ssh.exec', constraints: { command: 'echo *' } },
        { kind: 'ssh.exec', constraints: { command: ['printf', '%s|', '**'] } },
      ]);
      // The same key, under a policy that does not constrain the command: the line goes to the shell as written.
      shell = await credential('ssh-shell', 'ssh-key', key.privateKey, config);
      await policy('ssh-shell-any', shell.id, [{ kind: 'ssh.exec' }]);
      const otherHostKey = generateSshKeyPair('ed25519').publicKey.split(' ')[1] as string;
      const pinnedWrong = await credential('ssh-impostor', 'ssh-key', key.privateKey, { ...config, hostKeySha256: sshFingerprint(Buffer.from(otherHostKey, 'base64')) });
      await policy('ssh-impostor-any', pinnedWrong.id, [{ kind: 'ssh.exec' }]);
    });
    afterAll(() => sshd?.close());

    it('runs the command with the private key after the quorum approves', async () => {
      const done = await runApproved('ssh-shell', 'ssh.exec', { command: 'echo hello; echo oops >&2; exit 3' });
      expect(done.status).toBe('succeeded');
      expect(done.result).toEqual({ stdout: 'hello\n', stderr: 'oops\n', exitCode: 3 });
      expect(acceptedKeys(sshd.log())).toEqual([shell.publicInfo.fingerprint]);
    });

    it('runs a plain line under a command glob', async () => {
      const done = await runApproved('ssh-web', 'ssh.exec', { command: 'echo hello world' });
      expect(done.result).toEqual({ stdout: 'hello world\n', stderr: '', exitCode: 0 });
    });

    it('refuses at submit (403) a command outside the policy glob', async () => {
      await expectRefusedAtSubmit('ssh-web', 'ssh.exec', { command: 'rm -rf /tmp/qg' });
    });

    it('refuses at submit (403, saying why) a line with shell metacharacters under a command glob', async () => {
      await expectRefusedAtSubmit('ssh-web', 'ssh.exec', { command: 'echo hello; touch /tmp/qg-metachar-pwned' });
      const res = await submit('ssh-web', 'ssh.exec', { command: 'echo $(id)' });
      expect(res.body.detail).toMatch(/shell metacharacters.*argv array/);
    });

    it('quotes an argv so that each hostile argument reaches the program as one argument', async () => {
      const args = ['two words', '', "it's", '$(touch /tmp/qg-argv-pwned)', '`id`', 'a;b&&c|d', 'line1\nline2', '-rf', '*', '"q"', '\\'];
      const done = await runApproved('ssh-web', 'ssh.exec', { command: ['printf', '%s|', ...args] });
      expect(done.status).toBe('succeeded');
      expect(done.digestInput.operation.params).toEqual({ command: ['printf', '%s|', ...args] });
      expect(done.result).toEqual({ stdout: args.map((a) => `${a}|`).join(''), stderr: '', exitCode: 0 });
      expect(existsSync('/tmp/qg-argv-pwned')).toBe(false);
    });

    it('fails closed on a host key mismatch, before authenticating', async () => {
      const logBefore = sshd.log().length;
      const done = await runApproved('ssh-impostor', 'ssh.exec', { command: 'touch /tmp/qg-should-not-exist' });
      expect(done.status).toBe('failed');
      expect(done.result.code).toBe('HOST_KEY_MISMATCH');
      expect(done.result.error).toContain(`presented host key ${sshd.hostKeySha256}`);
      expect(sshd.log().slice(logBefore)).not.toMatch(/publickey|Accepted/);
      expect(new Set(acceptedKeys(sshd.log()))).toEqual(new Set([web.publicInfo.fingerprint]));
    });
  });

  (sqlAdminUrl === undefined ? describe.skip : describe)('sql.exec against PostgreSQL', () => {
    let peer: SqlPeer;
    let readOnlyRole: string | undefined;

    beforeAll(async () => {
      peer = await startSqlPeer(sqlAdminUrl as string);
      const config = { host: peer.host, port: peer.port, database: peer.database, user: peer.role, ssl: false };
      const reports = await credential('pg-reports', 'postgres', peer.password, config);
      await policy('pg-reports-read', reports.id, [{ kind: 'sql.exec', constraints: { readOnly: true } }]);
      const wrong = await credential('pg-stale', 'postgres', 'pw-rotated-away-00000000', config);
      await policy('pg-stale-any', wrong.id, [{ kind: 'sql.exec' }]);
      // A role the login may take, that may read `numbers` only: read-only statements run as it.
      readOnlyRole = `qg_test_ro_${peer.role.slice(-10)}`;
      await peer.admin(`CREATE ROLE ${readOnlyRole} NOLOGIN`);
      await peer.admin(`GRANT ${readOnlyRole} TO ${peer.role}`);
      await peer.admin(`GRANT USAGE ON SCHEMA public TO ${readOnlyRole}`);
      await peer.admin(`GRANT SELECT ON numbers TO ${readOnlyRole}`);
      const narrowed = await credential('pg-narrowed', 'postgres', peer.password, { ...config, readOnlyRole });
      expect(narrowed.config).toMatchObject({ readOnlyRole });
      await policy('pg-narrowed-any', narrowed.id, [{ kind: 'sql.exec' }]);
    });
    afterAll(async () => {
      await peer?.close();
      if (readOnlyRole !== undefined && sqlAdminUrl !== undefined) {
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: sqlAdminUrl });
        await client.connect();
        await client.query(`DROP ROLE IF EXISTS ${readOnlyRole}`).finally(() => client.end());
      }
    });

    it(`runs the statement as the role, with the password checked (by the server or a SCRAM front)`, async () => {
      const done = await runApproved('pg-reports', 'sql.exec', { sql: 'SELECT current_user AS who, id, name FROM inventory ORDER BY id LIMIT 2' });
      expect(done.status).toBe('succeeded');
      expect(done.result).toEqual({ rowCount: 2, rows: [{ who: peer.role, id: 1, name: 'bolt' }, { who: peer.role, id: 2, name: 'nut' }] });
      // The default readOnly: true is part of the request the custodians signed.
      expect(done.digestInput.operation.params).toEqual({ sql: expect.any(String), readOnly: true });
      if (peer.front) expect(peer.front.attempts.filter((a) => a.ok)).toEqual([{ user: peer.role, database: peer.database, ok: true }]);
    });

    it('refuses at submit (403) a statement that is not read-only when the policy requires it', async () => {
      await expectRefusedAtSubmit('pg-reports', 'sql.exec', { sql: `UPDATE inventory SET name = 'x'`, readOnly: false });
    });

    it('fails a write inside the read-only transaction', async () => {
      const done = await runApproved('pg-reports', 'sql.exec', { sql: `DELETE FROM inventory` });
      expect(done.status).toBe('failed');
      expect(done.result.error).toMatch(/25006.*read-only transaction/);
      expect(await peer.admin('SELECT count(*)::int AS n FROM inventory')).toEqual([{ n: 3 }]);
    });

    it('fails closed with a wrong password', async () => {
      const done = await runApproved('pg-stale', 'sql.exec', { sql: 'SELECT 1' });
      expect(done.status).toBe('failed');
      expect(done.result).toEqual({ error: expect.stringMatching(/refused the password \(28P01/), code: 'UPSTREAM_FAILED' });
    });

    it('runs a read-only statement under SET LOCAL ROLE when the config names readOnlyRole', async () => {
      const done = await runApproved('pg-narrowed', 'sql.exec', { sql: 'SELECT current_user AS who, count(*)::int AS n FROM numbers' });
      expect(done.status).toBe('succeeded');
      expect(done.result).toEqual({ rowCount: 1, rows: [{ who: readOnlyRole, n: 1500 }] });
      const denied = await runApproved('pg-narrowed', 'sql.exec', { sql: 'SELECT name FROM inventory' });
      expect(denied.status).toBe('failed');
      expect(denied.result.error).toMatch(/42501.*permission denied/);
    });

    it.each<[string, string, RegExp]>([
      ['DO after a comment', '/* report */DO $$ BEGIN PERFORM pg_sleep(0); END $$', /DO runs a procedural block/],
      ['CALL', 'call refresh_reports()', /CALL runs a procedure/],
      ['COPY … TO PROGRAM', `copy (select 1) to program 'id'`, /COPY can run a program/],
      ['set_config on the role', `SELECT set_config('role', 'none', true)`, /set_config can switch the role/],
    ])('refuses at submit (400) a read-only statement with %s', async (_name, sql, detail) => {
      const before = (await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM requests'))[0].n;
      const res = await submit('pg-narrowed', 'sql.exec', { sql });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body.detail).toMatch(detail);
      expect((await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM requests'))[0].n).toBe(before);
    });
  });

  describe('reveal (break-glass)', () => {
    it('seals the exact secret to the requester, and the audit log marks it break-glass', async () => {
      const done = await runApproved('kube-prod', 'reveal', {});
      expect(done.status).toBe('succeeded');
      expect(Object.keys(done.result)).toEqual(['envelope']);
      const { plaintext, protectedHeader } = await compactDecrypt(done.result.envelope, requester.keys.encryption.privateKey);
      expect(Buffer.from(plaintext).toString('utf8')).toBe(secrets['kube-prod']);
      expect(protectedHeader).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', req: done.id });
      await expect(compactDecrypt(done.result.envelope, custodians[0]!.keys.encryption.privateKey)).rejects.toThrow();
      const audit = (await admin.get('/api/v1/audit?limit=1000')).body.entries;
      const succeeded = audit.find((e: any) => e.action === 'request.succeeded' && e.subject === `request:${done.id}`);
      expect(succeeded?.data).toMatchObject({ breakGlass: true });
    });

    it('refuses at submit a requester without enrolled keys', async () => {
      const keyless = await createUser(admin, 'ops-keyless', ['requester']);
      const res = await submit('kube-prod', 'reveal', {}, keyless.http);
      expect(res.status).toBe(422);
      expect(res.body.detail).toMatch(/enrol keys/);
    });
  });

  it('leaves no credential secret in any table or log line', async () => {
    const haystack = (await dumpAllTables(gateway.ctx.dataSource)) + '\n' + gateway.logs.join('\n');
    expect(haystack).toContain('kube-prod');
    const needles: Record<string, string> = { 'kube token': KUBE_TOKEN, 'stale kube token': WRONG_KUBE_TOKEN };
    for (const [name, secret] of Object.entries(secrets)) {
      needles[name] = secret;
      // The base64 body of a PEM key, without its armour: a partial leak shows up too.
      const body = /-----BEGIN [A-Z ]+-----\n([\s\S]+?)\n-----END/.exec(secret)?.[1];
      if (body !== undefined) {
        needles[`${name} (key body)`] = body.replace(/\n/g, '');
        for (const [i, line] of body.split('\n').entries()) if (line.length >= 16) needles[`${name} (key line ${i})`] = line;
      }
    }
    expect(Object.keys(secrets).length).toBeGreaterThanOrEqual(3);
    expect(findLeaks(haystack, needles)).toEqual([]);
  });
});
