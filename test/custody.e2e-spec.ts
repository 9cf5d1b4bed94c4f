import canonicalize from 'canonicalize';
import { CompactSign } from 'jose';
import { combineShares } from '../libs/crypto/index.js';
import { openOwnShare, prepareCheckIn, shareCommitment, type CheckInShare } from '../libs/custodian/index.js';
import { Http } from './support/http.js';
import { dumpAllTables, findLeaks } from './support/leak-scan.js';
import { createOperator, createUser, setUpSigningQuorum, type Operator, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './support/test-gateway.js';

const DAY_MS = 24 * 3600 * 1000;

/** Spec §4a: check-ins prove a custodian still holds their key and share; health says how many more departures a credential survives. */
describe.each(testDatabaseKinds())('check-ins and quorum health (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  let clock = Date.parse('2027-01-04T09:00:00Z');
  const nowSeconds = () => Math.floor(clock / 1000);
  /** every plaintext nonce handed out: the database keeps only their hashes */
  const nonces: string[] = [];
  const anonymous = () => new Http(gateway.url);

  beforeAll(async () => {
    gateway = await startTestGateway(kind, {}, () => new Date(clock));
    q = await setUpSigningQuorum(anonymous(), { prefix: 'ck' });
  });
  afterAll(() => gateway.close());

  const credentialPath = () => `/api/v1/credentials/${q.credential.id}`;
  const keysOf = (op: Operator) => ({ encryptionPrivateKey: op.keys.encryption.privateKey, signingPrivateKey: op.keys.signing.privateKey, signingKid: op.signingKid });

  async function fetchShare(op: Operator): Promise<CheckInShare> {
    const res = await op.http.get(`${credentialPath()}/share`);
    expect(res.status).toBe(200);
    return res.body;
  }

  async function nonceOf(op: Operator, share: CheckInShare): Promise<string> {
    const { compactDecrypt } = await import('jose');
    const nonce = new TextDecoder().decode((await compactDecrypt(share.challenge, op.keys.encryption.privateKey)).plaintext);
    nonces.push(nonce);
    return nonce;
  }

  /** A check-in statement with any claims, signed with the operator's own signing key: what a broken or hostile client could send. */
  async function signCheckIn(op: Operator, claims: Record<string, unknown>): Promise<string> {
    return new CompactSign(Buffer.from(canonicalize(claims) ?? '')).setProtectedHeader({ alg: 'ES256', kid: op.signingKid, typ: 'qg-checkin+jwt' }).sign(op.keys.signing.privateKey);
  }

  async function honestCheckIn(op: Operator) {
    const share = await fetchShare(op);
    await nonceOf(op, share);
    const { statement } = await prepareCheckIn({ credentialId: q.credential.id, share, userId: op.id, keys: keysOf(op), nowSeconds: nowSeconds() });
    return op.http.post(`${credentialPath()}/check-ins`, { statement });
  }

  async function auditOf(action: string): Promise<Record<string, unknown>[]> {
    const rows: { data: Record<string, unknown>; actor: string }[] = await gateway.ctx.dataSource.query(`SELECT actor, data FROM audit_log WHERE action = $1 AND subject = $2 ORDER BY seq`, [action, `credential:${q.credential.id}`]);
    return rows.map((r) => ({ actor: r.actor, ...r.data }));
  }

  const health = async () => {
    const res = await q.admin.get(`${credentialPath()}/health`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const custodianHealth = async (op: Operator) => (await health()).groups[0].custodians.find((c: { userId: string }) => c.userId === op.id);

  /** Tokens live an hour: after the clock jumps, everyone signs in again. */
  async function signInAgain(): Promise<void> {
    q.admin = await anonymous().login('admin', ADMIN_PASSWORD);
    for (const op of q.operators) op.http = await anonymous().login(op.username, `${op.username}-password-for-tests`);
  }

  it('a custodian checks in: 201 with the time, an audit entry, and their last check-in on the health page', async () => {
    const [op1] = q.operators as [Operator];
    const share = await fetchShare(op1);
    expect(share).toMatchObject({ index: 1, version: 1, envelope: expect.any(String), challenge: expect.any(String) });
    expect(share).not.toHaveProperty('group');
    const res = await (async () => {
      await nonceOf(op1, share);
      const { statement } = await prepareCheckIn({ credentialId: q.credential.id, share, userId: op1.id, keys: keysOf(op1), nowSeconds: nowSeconds() });
      return op1.http.post(`${credentialPath()}/check-ins`, { statement });
    })();
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ at: new Date(clock).toISOString() });
    expect(await auditOf('credential.checked_in')).toEqual([{ actor: `user:${op1.id}`, custodian: op1.id, username: op1.username, version: 1, index: 1 }]);
    expect(await custodianHealth(op1)).toMatchObject({ live: true, reasons: [], lastCheckInAt: new Date(clock).toISOString() });
    // By name too.
    expect((await op1.http.get(`/api/v1/credentials/${q.credential.name}/share`)).status).toBe(200);
  });

  it('a commitment over a tampered share: 400, the nonce used up, and an audit entry naming the custodian', async () => {
    const op2 = q.operators[1]!;
    const share = await fetchShare(op2);
    const nonce = await nonceOf(op2, share);
    const opened = await openOwnShare(share.envelope, op2.keys.encryption.privateKey);
    opened.share[5] = opened.share[5]! ^ 0x01;
    const commitment = await shareCommitment({ cred: q.credential.id, ver: 1, idx: share.index, share: opened.share });
    const claims = { cred: q.credential.id, ver: 1, idx: share.index, commitment, nonce, sub: op2.id, iat: nowSeconds() };
    const res = await op2.http.post(`${credentialPath()}/check-ins`, { statement: await signCheckIn(op2, claims) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(res.body.code).toBe('SHARE_REJECTED');
    expect(await auditOf('credential.check_in_failed')).toEqual([{ actor: `user:${op2.id}`, custodian: op2.id, username: op2.username, version: 1, index: 2, reason: 'commitment_mismatch' }]);
    expect((await custodianHealth(op2)).lastCheckInAt).toBeNull();
    // The right commitment cannot ride on the nonce that was spent.
    opened.share[5] = opened.share[5]! ^ 0x01;
    const right = await shareCommitment({ cred: q.credential.id, ver: 1, idx: share.index, share: opened.share });
    const again = await op2.http.post(`${credentialPath()}/check-ins`, { statement: await signCheckIn(op2, { ...claims, commitment: right }) });
    expect([again.status, again.body.code]).toEqual([400, 'CHECK_IN_REJECTED']);
  });

  it('a stale iat: 400, and the nonce stays usable', async () => {
    const op2 = q.operators[1]!;
    const share = await fetchShare(op2);
    const stale = await prepareCheckIn({ credentialId: q.credential.id, share, userId: op2.id, keys: keysOf(op2), nowSeconds: nowSeconds() - 301 });
    const res = await op2.http.post(`${credentialPath()}/check-ins`, { statement: stale.statement });
    expect([res.status, res.body.code]).toEqual([400, 'STATEMENT_REJECTED']);
    expect(res.body.detail).toMatch(/STATEMENT_STALE/);
    const fresh = await prepareCheckIn({ credentialId: q.credential.id, share, userId: op2.id, keys: keysOf(op2), nowSeconds: nowSeconds() });
    expect((await op2.http.post(`${credentialPath()}/check-ins`, { statement: fresh.statement })).status).toBe(201);
  });

  it('a reused, foreign, expired or invented nonce: 400', async () => {
    const [op1, op2, op3] = q.operators as [Operator, Operator, Operator];
    // Reused: the same statement twice.
    const share = await fetchShare(op3);
    await nonceOf(op3, share);
    const { statement, commitment } = await prepareCheckIn({ credentialId: q.credential.id, share, userId: op3.id, keys: keysOf(op3), nowSeconds: nowSeconds() });
    expect((await op3.http.post(`${credentialPath()}/check-ins`, { statement })).status).toBe(201);
    const reused = await op3.http.post(`${credentialPath()}/check-ins`, { statement });
    expect([reused.status, reused.body.code]).toEqual([400, 'CHECK_IN_REJECTED']);

    // Foreign: a nonce issued to op1, answered by op2 with op2's own right commitment.
    const op1Nonce = await nonceOf(op1, await fetchShare(op1));
    const op2Share = await fetchShare(op2);
    const own = await prepareCheckIn({ credentialId: q.credential.id, share: op2Share, userId: op2.id, keys: keysOf(op2), nowSeconds: nowSeconds() });
    const ownClaims = JSON.parse(Buffer.from(own.statement.split('.')[1]!, 'base64url').toString('utf8'));
    const foreign = await op2.http.post(`${credentialPath()}/check-ins`, { statement: await signCheckIn(op2, { ...ownClaims, nonce: op1Nonce }) });
    expect([foreign.status, foreign.body.code]).toEqual([400, 'CHECK_IN_REJECTED']);

    // Invented: 32 random bytes the gateway never issued.
    const invented = await op3.http.post(`${credentialPath()}/check-ins`, {
      statement: await signCheckIn(op3, { cred: q.credential.id, ver: 1, idx: 3, commitment, nonce: Buffer.alloc(32, 7).toString('base64url'), sub: op3.id, iat: nowSeconds() }),
    });
    expect([invented.status, invented.body.code]).toEqual([400, 'CHECK_IN_REJECTED']);

    // Expired: answered after its 5 minutes.
    const late = await fetchShare(op3);
    clock += 5 * 60 * 1000 + 1000;
    const lateStatement = await prepareCheckIn({ credentialId: q.credential.id, share: late, userId: op3.id, keys: keysOf(op3), nowSeconds: nowSeconds() });
    const expired = await op3.http.post(`${credentialPath()}/check-ins`, { statement: lateStatement.statement });
    expect([expired.status, expired.body.code]).toEqual([400, 'CHECK_IN_REJECTED']);

    // A statement for another share index is refused even with a fresh nonce.
    const fresh = await fetchShare(op3);
    const freshNonce = await nonceOf(op3, fresh);
    const wrongIndex = await op3.http.post(`${credentialPath()}/check-ins`, {
      statement: await signCheckIn(op3, { cred: q.credential.id, ver: 1, idx: 1, commitment, nonce: freshNonce, sub: op3.id, iat: nowSeconds() }),
    });
    expect([wrongIndex.status, wrongIndex.body.code]).toEqual([400, 'CHECK_IN_REJECTED']);
  });

  it('someone holding no share: 403 on both routes, service accounts too; an unknown credential: 404; a malformed body: 400', async () => {
    const outsider = await createOperator(q.admin, 'ck-outsider');
    expect((await outsider.http.get(`${credentialPath()}/share`)).status).toBe(403);
    const op1 = q.operators[0]!;
    const share = await fetchShare(op1);
    const { statement } = await prepareCheckIn({ credentialId: q.credential.id, share, userId: op1.id, keys: keysOf(op1), nowSeconds: nowSeconds() });
    expect((await outsider.http.post(`${credentialPath()}/check-ins`, { statement })).status).toBe(403);
    expect((await q.automation.get(`${credentialPath()}/share`)).status).toBe(403);
    expect((await q.automation.post(`${credentialPath()}/check-ins`, { statement })).status).toBe(403);
    expect((await q.automation.get(`${credentialPath()}/health`)).status).toBe(403);
    expect((await op1.http.get('/api/v1/credentials/no-such-credential/share')).status).toBe(404);
    expect((await op1.http.get('/api/v1/credentials/no-such-credential/health')).status).toBe(404);
    const malformed = await op1.http.post(`${credentialPath()}/check-ins`, { statement: 42, extra: true });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toMatch(/problem\+json/);
    // Another custodian's statement, replayed by op1: signed by the wrong key.
    expect((await q.operators[1]!.http.post(`${credentialPath()}/check-ins`, { statement })).status).toBe(400);
  });

  it('margin drops when a custodian is disabled or loses the operator role, and comes back when that is undone; the gauge follows', async () => {
    const [, op2, op3] = q.operators as [Operator, Operator, Operator];
    expect(await health()).toMatchObject({ credentialId: q.credential.id, version: 1, margin: 1, checkInDays: 90, groups: [{ name: 'custodians', threshold: 2, live: 3 }] });
    const gauge = async () => (await anonymous().get('/metrics')).text.match(/^quorumgate_credential_margin\{credential="ck-release-key"\} (-?\d+)$/m)?.[1];
    expect(await gauge()).toBe('1');

    expect((await q.admin.request('PATCH', `/api/v1/users/${op3.id}`, { disabled: true })).status).toBe(200);
    expect(await health()).toMatchObject({ margin: 0, groups: [{ live: 2 }] });
    expect(await custodianHealth(op3)).toMatchObject({ live: false, reasons: ['disabled'], username: op3.username, index: 3 });
    expect(await gauge()).toBe('0');

    expect((await q.admin.request('PATCH', `/api/v1/users/${op2.id}`, { roles: ['requester'] })).status).toBe(200);
    expect(await health()).toMatchObject({ margin: -1, groups: [{ live: 1 }] });
    expect(await custodianHealth(op2)).toMatchObject({ live: false, reasons: ['no_operator_role'] });
    expect(await gauge()).toBe('-1');

    expect((await q.admin.request('PATCH', `/api/v1/users/${op3.id}`, { disabled: false })).status).toBe(200);
    expect((await q.admin.request('PATCH', `/api/v1/users/${op2.id}`, { roles: ['operator'] })).status).toBe(200);
    expect(await health()).toMatchObject({ margin: 1, groups: [{ live: 3 }] });
  });

  it('margin drops as custodians miss the check-in window (frozen clock), and a check-in restores it', async () => {
    const [op1, op2, op3] = q.operators as [Operator, Operator, Operator];
    const sealedAt = Date.parse((await health()).groups[0].custodians[0].checkInDueAt) - 90 * DAY_MS;
    clock += 60 * DAY_MS;
    await signInAgain();
    expect((await honestCheckIn(op2)).status).toBe(201);
    // Day 91 after the seal: op1 and op3 last checked in on day 0, op2 on day 60.
    clock = sealedAt + 91 * DAY_MS;
    await signInAgain();
    const late = await health();
    expect(late).toMatchObject({ margin: -1, groups: [{ live: 1 }] });
    expect(await custodianHealth(op1)).toMatchObject({ live: false, reasons: ['check_in_overdue'] });
    expect(await custodianHealth(op2)).toMatchObject({ live: true, reasons: [] });
    expect(await custodianHealth(op3)).toMatchObject({ live: false, reasons: ['check_in_overdue'] });
    expect((await honestCheckIn(op1)).status).toBe(201);
    expect(await health()).toMatchObject({ margin: 0, groups: [{ live: 2 }] });
  });

  it('a credential created with a shorter window counts from its sealing', async () => {
    const lead = (await createUser(q.admin, 'ck-lead2', ['security_lead'])).http;
    const created = await lead.post('/api/v1/credentials', { name: 'ck-weekly', kind: 'signing-key', generate: { alg: 'ES256' }, custodians: q.operators.map((o) => o.id), threshold: 2, checkInDays: 7 });
    expect(created.status).toBe(201);
    expect(created.body.checkInDays).toBe(7);
    expect((await q.admin.get('/api/v1/credentials/ck-weekly/health')).body).toMatchObject({ margin: 1, checkInDays: 7 });
    clock += 8 * DAY_MS;
    await signInAgain();
    expect((await q.admin.get('/api/v1/credentials/ck-weekly/health')).body).toMatchObject({ margin: -2 });
    expect((await lead.post('/api/v1/credentials', { name: 'ck-bad-window', kind: 'signing-key', generate: { alg: 'ES256' }, custodians: [q.operators[0]!.id], threshold: 1, checkInDays: 0 })).status).toBe(400);
  });

  it('leaves no share, data key or nonce in any table or log line (invariant 1)', async () => {
    const shares = [];
    for (const op of q.operators.slice(0, 2)) shares.push((await openOwnShare((await fetchShare(op)).envelope, op.keys.encryption.privateKey)).share);
    const secrets: Record<string, Uint8Array | string> = { 'data key': combineShares(shares), 'share 1': shares[0]!, 'share 2': shares[1]!, 'signing key d': q.signingKey.privateJwk.d ?? '' };
    nonces.forEach((n, i) => (secrets[`nonce ${i}`] = n));
    expect(nonces.length).toBeGreaterThan(5);
    const haystack = (await dumpAllTables(gateway.ctx.dataSource)) + '\n' + gateway.logs.join('\n');
    expect(haystack).toContain('credential.checked_in');
    expect(findLeaks(haystack, secrets)).toEqual([]);
  });

  it('a database writer who rewrites a commitment: check-ins and health fail closed (409) naming nobody, and the gauge leaves the credential out', async () => {
    const op3 = q.operators[2]!;
    await gateway.ctx.dataSource.query(`UPDATE credential_shares SET commitment = $1 WHERE credential_id = $2 AND custodian_id = $3`, ['0'.repeat(64), q.credential.id, op3.id]);
    const share = await op3.http.get(`${credentialPath()}/share`);
    expect([share.status, share.body.code]).toEqual([409, 'CONFLICT']);
    expect(share.text).not.toContain(op3.id);
    expect((await q.operators[0]!.http.get(`${credentialPath()}/share`)).status).toBe(409);
    expect((await q.admin.get(`${credentialPath()}/health`)).status).toBe(409);
    const metrics = (await anonymous().get('/metrics')).text;
    expect(metrics).not.toContain('credential="ck-release-key"');
    expect(metrics).toMatch(/^quorumgate_credential_margin\{credential="ck-weekly"\} -?\d+$/m);
  });
});
