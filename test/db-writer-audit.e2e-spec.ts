// Spec §2 item 13 against someone who can write to the database (a DBA, a restored backup)
// but holds neither the master key nor the gateway's signing key: they disable the
// append-only triggers, rewrite and re-hash the chain, delete, copy and swap checkpoint rows.
// Through HTTP and direct SQL on the real database, and through the compiled `qg` CLI.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditService } from '../apps/gateway/src/audit/audit.service.js';
import { type AuditEntry, checkpointLink, computeEntryHash, GENESIS_HASH, signCheckpoint, verifyChain } from '../libs/audit/index.js';
import { Http } from './support/http.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './support/test-gateway.js';

const QG_BIN = fileURLToPath(new URL('../bin/qg.js', import.meta.url));
const ENTRY_COLUMNS = `seq, at, actor, action, subject, data, prev_hash AS "prevHash", hash`;

type Sql = (sql: string, params?: unknown[]) => Promise<any[]>;

interface StoredCheckpoint {
  seq: number;
  hash: string;
  prev: string | null;
  at: string;
  jws: string;
}

describe.each(testDatabaseKinds())('a database writer against the audit log (%s database)', (kind) => {
  let gateway: TestGateway;
  let admin: Http;
  let auditor: Http;
  let auditorToken: string;
  let accounts = 0;

  /** A service account: an audited state change without the cost of a password hash. */
  async function serviceAccount(roles: string[]): Promise<{ id: string; token: string }> {
    const res = await admin.post('/api/v1/service-accounts', { name: `account-${(accounts += 1)}`, roles });
    expect(res.status).toBe(201);
    return res.body;
  }

  beforeEach(async () => {
    gateway = await startTestGateway(kind);
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    auditorToken = (await serviceAccount(['auditor'])).token;
    auditor = admin.as(auditorToken);
  });
  afterEach(() => gateway?.close());

  const sql: Sql = (text, params) => gateway.ctx.dataSource.query(text, params);

  /** State changes: each adds a `service_account.created` entry. */
  async function activity(count = 2, roles = ['requester']): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) ids.push((await serviceAccount(roles)).id);
    return ids;
  }

  async function signCheckpoint201(): Promise<StoredCheckpoint> {
    const res = await auditor.post('/api/v1/audit/checkpoints');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/), jws: expect.any(String) });
    return res.body;
  }

  /** Three checkpoints with state changes before and between them. */
  async function threeCheckpoints(): Promise<StoredCheckpoint[]> {
    const cps: StoredCheckpoint[] = [];
    for (let i = 0; i < 3; i += 1) {
      await activity();
      cps.push(await signCheckpoint201());
    }
    expect(cps.map((c) => c.prev)).toEqual([null, checkpointLink(cps[0]!.jws), checkpointLink(cps[1]!.jws)]);
    return cps;
  }

  const checkpointCount = async (): Promise<number> => (await sql('SELECT count(*)::int AS n FROM audit_checkpoints'))[0].n;

  /**
   * What a DBA can do: a session with every trigger off (`session_replication_role = replica`
   * skips ordinary and foreign-key triggers alike), on a connection of its own.
   */
  async function asDatabaseWriter(work: (q: Sql) => Promise<void>): Promise<void> {
    const runner = gateway.ctx.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SET session_replication_role = replica');
      await work((text, params) => runner.query(text, params));
    } finally {
      await runner.query('SET session_replication_role = DEFAULT');
      await runner.release();
    }
  }

  /** Edits entry `seq` and re-hashes it and every later entry, then moves the head: a chain that verifies on its own. */
  async function rewriteChain(q: Sql, seq: number, edit: (entry: AuditEntry) => AuditEntry): Promise<void> {
    const rows: any[] = await q(`SELECT ${ENTRY_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq`, [seq - 1]);
    let prevHash = seq === 1 ? GENESIS_HASH : (rows.shift().hash as string);
    let last = seq - 1;
    for (const row of rows) {
      let entry: AuditEntry = { ...row, seq: Number(row.seq), prevHash };
      if (entry.seq === seq) entry = edit(entry);
      entry = { ...entry, hash: computeEntryHash(entry) };
      await q('UPDATE audit_log SET actor = $2, action = $3, subject = $4, data = $5, prev_hash = $6, hash = $7 WHERE seq = $1', [
        entry.seq,
        entry.actor,
        entry.action,
        entry.subject,
        entry.data,
        entry.prevHash,
        entry.hash,
      ]);
      prevHash = entry.hash;
      last = entry.seq;
    }
    await q('UPDATE audit_head SET seq = $1, hash = $2 WHERE id', [last, prevHash]);
  }

  /** The seq of the entry that created a service account. */
  async function createdSeq(accountId: string): Promise<number> {
    const rows = await sql(`SELECT seq FROM audit_log WHERE action = 'service_account.created' AND subject = $1`, [`service_account:${accountId}`]);
    return Number(rows[0].seq);
  }

  /** Hides that an account was made an admin: the entry says auditor. */
  const hideAdmin = (entry: AuditEntry): AuditEntry => ({ ...entry, data: { ...entry.data, roles: ['auditor'] } });

  it('refuses UPDATE, DELETE and TRUNCATE of checkpoints while the triggers are on', async () => {
    await activity(1);
    const cp = await signCheckpoint201();
    await expect(sql(`UPDATE audit_checkpoints SET at = 'x' WHERE seq = $1`, [cp.seq])).rejects.toThrow(/append-only/);
    await expect(sql('DELETE FROM audit_checkpoints')).rejects.toThrow(/append-only/);
    await expect(sql('TRUNCATE audit_checkpoints')).rejects.toThrow(/append-only/);
    // An insert must extend the newest checkpoint (a bug guard: a writer can turn this off too).
    await activity(1);
    const [head] = await sql('SELECT seq, hash FROM audit_head');
    const unchained = [head.seq, head.hash, cp.at, 'a.b.c'];
    await expect(sql(`INSERT INTO audit_checkpoints (seq, hash, prev, at, jws) VALUES ($1, $2, NULL, $3, $4)`, unchained)).rejects.toThrow(/chains to the newest/);
    await expect(sql(`INSERT INTO audit_checkpoints (seq, hash, prev, at, jws) VALUES ($1, $2, $3, $4, $5)`, [cp.seq, cp.hash, checkpointLink(cp.jws), cp.at, 'a.b.c'])).rejects.toThrow();
    expect(await checkpointCount()).toBe(1);
  });

  it('signs no checkpoint over a chain rewritten and re-hashed behind the trigger (head too), and verify names the checkpoint it broke', async () => {
    const [mallory] = await activity(1, ['admin']);
    await activity();
    const first = await signCheckpoint201();
    await activity();
    const second = await signCheckpoint201();
    await activity();
    const forgedSeq = await createdSeq(mallory!);
    expect(forgedSeq).toBeLessThanOrEqual(first.seq);

    await expect(sql(`UPDATE audit_log SET data = '{}' WHERE seq = $1`, [forgedSeq])).rejects.toThrow(/append-only/);
    await asDatabaseWriter((q) => rewriteChain(q, forgedSeq, hideAdmin));
    const entries = (await auditor.get('/api/v1/audit?limit=1000')).body.entries as AuditEntry[];
    expect(entries.find((e) => e.seq === forgedSeq)?.data).toMatchObject({ roles: ['auditor'] });
    // The rewritten chain verifies on its own: only the signed checkpoints can tell.
    expect(verifyChain(entries)).toMatchObject({ ok: true });

    const refused = await auditor.post('/api/v1/audit/checkpoints');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'CONFLICT', auditCode: 'CHECKPOINT_MISMATCH', firstBadSeq: second.seq });
    expect(refused.body.detail).toMatch(/no checkpoint was signed/);
    // The periodic checkpoint (MaintenanceService) takes the same path.
    await expect(gateway.app.get(AuditService).checkpoint()).resolves.toMatchObject({ kind: 'refused', firstBadSeq: second.seq });
    expect(await checkpointCount()).toBe(2);
    expect(gateway.logs.filter((l) => l.includes('no checkpoint signed'))).toHaveLength(2);
    expect((await new Http(gateway.url).get('/metrics')).text).toMatch(/qg_audit_checkpoint_refusals_total 2/);

    const verify = await auditor.get('/api/v1/audit/verify');
    expect(verify.body).toMatchObject({ ok: false, code: 'CHECKPOINT_MISMATCH', firstBadSeq: first.seq });
    expect(verify.body.reason).toMatch(new RegExp(`rewritten at or before seq ${first.seq}`));
  });

  it('reports a deleted checkpoint as a gap', async () => {
    const [first, second, third] = await threeCheckpoints();
    expect((await auditor.get('/api/v1/audit/verify')).body).toMatchObject({ ok: true, checkpoints: 3 });

    await asDatabaseWriter(async (q) => void (await q('DELETE FROM audit_checkpoints WHERE seq = $1', [second!.seq])));
    const verify = await auditor.get('/api/v1/audit/verify');
    expect(verify.body).toMatchObject({ ok: false, code: 'CHECKPOINT_GAP', firstBadSeq: third!.seq });
    expect(verify.body.reason).toMatch(new RegExp(`does not chain to the one at seq ${first!.seq}`));
  });

  it('notices the newest checkpoint deleted, and signs nothing until it is back', async () => {
    const [, , third] = await threeCheckpoints();
    await activity();
    await asDatabaseWriter(async (q) => void (await q('DELETE FROM audit_checkpoints WHERE seq = $1', [third!.seq])));

    // What is left is consistent; the gateway that signed the newest one remembers it.
    expect((await auditor.get('/api/v1/audit/verify')).body).toMatchObject({ ok: false, code: 'TRUST_NOT_EXTENDED', firstBadSeq: third!.seq });
    expect(await auditor.post('/api/v1/audit/checkpoints')).toMatchObject({ status: 409, body: { auditCode: 'TRUST_NOT_EXTENDED', firstBadSeq: third!.seq } });
    expect(await checkpointCount()).toBe(2);
  });

  const attacks: [string, (cps: StoredCheckpoint[], q: Sql, resign: (cp: StoredCheckpoint) => Promise<string>) => Promise<void>, string, (cps: StoredCheckpoint[]) => number][] = [
    [
      'an older checkpoint copied over a newer one',
      async ([first, second], q) => void (await q('UPDATE audit_checkpoints SET jws = $1 WHERE seq = $2', [first!.jws, second!.seq])),
      'CHECKPOINT_RESIGNED',
      ([first]) => first!.seq,
    ],
    [
      'two checkpoints swapped between their rows',
      async ([, second, third], q) => {
        await q('UPDATE audit_checkpoints SET jws = $1 WHERE seq = $2', [third!.jws, second!.seq]);
        await q('UPDATE audit_checkpoints SET jws = $1 WHERE seq = $2', [second!.jws, third!.seq]);
      },
      'CHECKPOINT_GAP',
      ([, , third]) => third!.seq,
    ],
    [
      'a checkpoint replaced by a re-signed copy of itself',
      async ([, second], q, resign) => void (await q('UPDATE audit_checkpoints SET jws = $1 WHERE seq = $2', [await resign(second!), second!.seq])),
      'CHECKPOINT_GAP',
      ([, , third]) => third!.seq,
    ],
    [
      'the newest checkpoint replaced by a re-signed copy of itself',
      async ([, , third], q, resign) => void (await q('UPDATE audit_checkpoints SET jws = $1 WHERE seq = $2', [await resign(third!), third!.seq])),
      'CHECKPOINT_RESIGNED',
      ([, , third]) => third!.seq,
    ],
  ];

  it.each(attacks)('fails verify on %s', async (_name, attack, code, firstBadSeq) => {
    const cps = await threeCheckpoints();
    // The writer cannot sign; a copy the gateway signed of the same payload at another time
    // (before a restored backup, say) is the closest they can hold. Made here with the key.
    const resign = (cp: StoredCheckpoint): Promise<string> =>
      signCheckpoint({ seq: cp.seq, hash: cp.hash, prev: cp.prev, at: new Date(Date.parse(cp.at) + 1).toISOString() }, gateway.ctx.signingKey.privateKey, gateway.ctx.signingKey.kid);
    await asDatabaseWriter(async (q) => {
      // A DBA drops what stands in the way too.
      await q('ALTER TABLE audit_checkpoints DROP CONSTRAINT audit_checkpoints_jws_unique');
      await attack(cps, q, resign);
    });
    const verify = await auditor.get('/api/v1/audit/verify');
    expect(verify.body).toMatchObject({ ok: false, code, firstBadSeq: firstBadSeq(cps) });
  });

  describe('qg audit verify --trust', () => {
    let home: string;
    let env: Record<string, string>;

    /** `node bin/qg.js …` (the compiled CLI), asynchronously: the gateway answers from this process. */
    function qg(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const child = spawn(process.execPath, [QG_BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdin.end(input);
      return new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    }

    beforeEach(async () => {
      home = await mkdtemp(join(tmpdir(), 'qg-trust-'));
      env = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), QG_URL: gateway.url, QG_TOKEN: auditorToken };
    });
    afterEach(() => rm(home, { recursive: true, force: true }));

    it('saves a checkpoint after a clean verify, and fails on a log rewritten since, even with every later checkpoint deleted', async () => {
      const trustFile = join(home, 'trusted.jws');
      const [mallory] = await activity(1, ['admin']);
      const first = await signCheckpoint201();
      await activity();
      expect((await qg(['audit', 'checkpoint'])).code).toBe(0);
      const saved = await qg(['audit', 'verify', '--save-trust', trustFile]);
      expect(saved).toMatchObject({ code: 0, stderr: '' });
      const trusted = (await readFile(trustFile, 'utf8')).trim();
      const trustedSeq = (await sql('SELECT max(seq) AS seq FROM audit_checkpoints'))[0].seq;
      expect(trusted).toBe((await sql('SELECT jws FROM audit_checkpoints WHERE seq = $1', [trustedSeq]))[0].jws);

      await activity();
      const newer = await signCheckpoint201();
      // The chain extends the trusted checkpoint: pass, and roll the trust forward.
      const rolled = await qg(['audit', 'verify', '--trust', trustFile, '--save-trust', trustFile]);
      expect(rolled.code).toBe(0);
      expect(rolled.stdout).toMatch(new RegExp(`extends the trusted checkpoint at seq ${Number(trustedSeq)}`));
      expect((await readFile(trustFile, 'utf8')).trim()).toBe(newer.jws);
      await writeFile(trustFile, `${trusted}\n`);

      // The writer rewrites the chain after the first checkpoint and deletes every checkpoint
      // after it: what is left is consistent, and a verifier without a saved checkpoint passes.
      const forgedSeq = (await sql(`SELECT seq FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1`, [first.seq]))[0].seq;
      await asDatabaseWriter(async (q) => {
        await rewriteChain(q, Number(forgedSeq), (e) => ({ ...e, actor: `service_account:${mallory}` }));
        await q('DELETE FROM audit_checkpoints WHERE seq > $1', [first.seq]);
      });
      expect((await qg(['audit', 'verify'])).code).toBe(0);

      const broken = await qg(['audit', 'verify', '--trust', trustFile]);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(new RegExp(`BROKEN at seq ${Number(trustedSeq)} \\(TRUST_NOT_EXTENDED\\)`));
      expect(broken.stderr).toMatch(/does NOT extend the trusted checkpoint/);
      const brokenJson = await qg(['audit', 'verify', '--trust', trustFile, '--json']);
      expect(brokenJson.code).toBe(1);
      expect(JSON.parse(brokenJson.stdout)).toMatchObject({ ok: false, code: 'TRUST_NOT_EXTENDED', firstBadSeq: Number(trustedSeq), trusted: { seq: Number(trustedSeq), extended: false } });
    });

    it('refuses a trusted checkpoint that was re-signed over a rewritten chain', async () => {
      const trustFile = join(home, 'trusted.jws');
      await activity();
      const first = await signCheckpoint201();
      await activity();
      const second = await signCheckpoint201();
      expect((await qg(['audit', 'verify', '--save-trust', trustFile])).code).toBe(0);

      // A copy of the second checkpoint over a rewritten chain, as a gateway that forgot it
      // (restarted onto a database restored without it) would sign: it chains to the first.
      await asDatabaseWriter(async (q) => {
        await rewriteChain(q, first.seq + 1, (e) => ({ ...e, subject: 'user:nobody' }));
        const [head] = await q('SELECT hash FROM audit_log WHERE seq = $1', [second.seq]);
        const jws = await signCheckpoint({ seq: second.seq, hash: head.hash, prev: checkpointLink(first.jws), at: new Date().toISOString() }, gateway.ctx.signingKey.privateKey, gateway.ctx.signingKey.kid);
        await q('UPDATE audit_checkpoints SET hash = $1, jws = $2 WHERE seq = $3', [head.hash, jws, second.seq]);
      });
      expect((await qg(['audit', 'verify'])).code).toBe(0);
      const broken = await qg(['audit', 'verify', '--trust', trustFile]);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(new RegExp(`BROKEN at seq ${second.seq} \\(CHECKPOINT_RESIGNED\\)`));
    });

    it('says what is wrong with a trust file that holds no checkpoint', async () => {
      await activity();
      await signCheckpoint201();
      const garbage = join(home, 'garbage.jws');
      await writeFile(garbage, 'not a checkpoint\n');
      expect(await qg(['audit', 'verify', '--trust', garbage])).toMatchObject({ code: 2, stderr: expect.stringMatching(/does not hold a compact checkpoint JWS/) });
      expect(await qg(['audit', 'verify', '--trust', join(home, 'missing.jws')])).toMatchObject({ code: 2, stderr: expect.stringMatching(/not a readable file/) });
      // A JWS the gateway never signed (another deployment's key, a session token): exit 1.
      const token = admin.token ?? '';
      await writeFile(garbage, `${token}\n`);
      const forged = await qg(['audit', 'verify', '--trust', garbage]);
      expect(forged.code).toBe(1);
      expect(forged.stderr).toMatch(/CHECKPOINT_INVALID.*trusted checkpoint does not verify/);
    });
  });
});
