// Spec §2 item 11 against a database writer (a DBA, a restored backup) who holds neither
// the master key nor any custodian's private key: they change rows in SQL, then everyone
// else goes on through HTTP. No key they put in a row may be used, and no share may go
// anywhere the MACs made at enrolment and creation do not vouch for.
import { decodeProtectedHeader } from 'jose';
import { exportPublicJwks, generateCustodianKeys } from '../libs/custodian/index.js';
import { issueAccessToken, verifyAccessToken } from '../apps/gateway/src/auth/access-tokens.js';
import { assignedCommitment, ShareAssignmentIntegrityError, verifiedAssignments } from '../apps/gateway/src/credentials/share-assignments.js';
import { startGateway, type RunningGateway } from '../apps/gateway/src/gateway.js';
import { loadOrCreateSigningKey } from '../apps/gateway/src/keys/gateway-signing-key.js';
import { findRequestView } from '../apps/gateway/src/requests/requests.repository.js';
import { Http } from './support/http.js';
import { approve, createOperator, createUser, decisionBody, generateSigningJwk, setUpSigningQuorum, signRequestBody, type Operator, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, logCollector, startTestGateway, testConfig, type TestGateway } from './support/test-gateway.js';

/** Keys a database writer made for themselves: they hold the private halves. */
async function attackerKeys() {
  const keys = await generateCustodianKeys();
  return { keys, ...(await exportPublicJwks(keys)) };
}

describe.each(testDatabaseKinds())('a database writer without the master key (%s database)', (kind) => {
  let gateway: TestGateway;
  let anonymous: Http;
  let admin: Http;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    anonymous = new Http(gateway.url);
    admin = await anonymous.login('admin', ADMIN_PASSWORD);
  });
  afterAll(() => gateway.close());

  const sql = (text: string, params: unknown[] = []) => gateway.ctx.dataSource.query(text, params);

  /** The error lines the gateway logged after `from`. */
  const errorsLoggedSince = (from: number) => gateway.logs.slice(from).filter((line) => JSON.parse(line).level >= 50);

  /** The thumbprints every stored share envelope is sealed to. */
  async function envelopeKids(): Promise<string[]> {
    const rows: { envelope: string }[] = await sql('SELECT envelope FROM credential_shares');
    return rows.map((r) => String(decodeProtectedHeader(r.envelope).kid));
  }

  function expectNamesNobody(detail: string, ...people: { id: string; username: string }[]) {
    for (const person of people) {
      expect(detail).not.toContain(person.id);
      expect(detail).not.toContain(person.username);
    }
  }

  describe('enrolled keys', () => {
    let lead: Http;
    let honest: Operator;

    beforeAll(async () => {
      lead = (await createUser(admin, 'keys-lead', ['security_lead'])).http;
      honest = await createOperator(admin, 'keys-honest');
    });

    it('an encryption key swapped in SQL receives no share: the credential is refused before anything is sealed, naming nobody', async () => {
      const victim = await createOperator(admin, 'keys-victim');
      const attacker = await attackerKeys();
      await sql('UPDATE users SET encryption_key = $2, encryption_kid = $3 WHERE id = $1', [victim.id, attacker.encryptionKey, attacker.encryptionThumbprint]);
      const logged = gateway.logs.length;

      const res = await lead.post('/api/v1/credentials', {
        name: 'keys-swapped',
        kind: 'http-token',
        config: { baseUrl: 'https://api.example.com' },
        secret: 'a-token-the-attacker-wants-0001',
        custodians: [honest.id, victim.id],
        threshold: 2,
      });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('KEYS_NOT_ENROLLED');
      expect(res.body.detail).toMatch(/integrity check.*enrol their keys again/);
      expectNamesNobody(res.body.detail, victim, honest);
      expect(await sql(`SELECT id FROM credentials WHERE name = 'keys-swapped'`)).toEqual([]);
      expect(await envelopeKids()).not.toContain(attacker.encryptionThumbprint);
      expect(errorsLoggedSince(logged).join('\n')).toMatch(/enrolled keys fail their MAC/);
      // Nor does the victim see the swapped key as theirs: no keys, so they enrol again.
      expect((await victim.http.get('/api/v1/me')).body.keys).toBeNull();
    });

    it('keys and MAC copied together from another user’s row fail too: the MAC binds the user', async () => {
      const victim = await createOperator(admin, 'keys-victim2');
      const mallory = await createOperator(admin, 'keys-mallory');
      await sql(
        `UPDATE users SET (encryption_key, encryption_kid, signing_key, signing_kid, keys_mac) =
           (SELECT encryption_key, encryption_kid, signing_key, signing_kid, keys_mac FROM users WHERE id = $2) WHERE id = $1`,
        [victim.id, mallory.id],
      );
      const res = await lead.post('/api/v1/credentials', { name: 'keys-copied', kind: 'http-token', config: { baseUrl: 'https://api.example.com' }, secret: 'another-token-0002', custodians: [victim.id], threshold: 1 });
      expect(res.status).toBe(422);
      expectNamesNobody(res.body.detail, victim, mallory);
      expect(await sql(`SELECT id FROM credentials WHERE name = 'keys-copied'`)).toEqual([]);
    });

    it('keys with no MAC (enrolled before keys carried one) fail closed until their owner enrols again, with the password', async () => {
      const stale = await createOperator(admin, 'keys-stale');
      await sql('UPDATE users SET keys_mac = NULL WHERE id = $1', [stale.id]);
      const body = { name: 'keys-stale', kind: 'http-token', config: { baseUrl: 'https://api.example.com' }, secret: 'a-third-token-0003', custodians: [stale.id], threshold: 1 };
      expect((await lead.post('/api/v1/credentials', body)).status).toBe(422);

      const jwks = await exportPublicJwks(stale.keys);
      const password = `${stale.username}-password-for-tests`;
      expect((await stale.http.put('/api/v1/me/keys', { encryptionKey: jwks.encryptionKey, signingKey: jwks.signingKey, currentPassword: password })).status).toBe(200);
      const created = await lead.post('/api/v1/credentials', body);
      expect(created.status).toBe(201);
      expect(await envelopeKids()).toContain(jwks.encryptionThumbprint);
    });

    it('a signing key swapped in SQL verifies no statement: the attacker cannot veto as the custodian, even logged in as them', async () => {
      const q = await setUpSigningQuorum(anonymous, { prefix: 'sig' });
      const [victim] = q.operators as [Operator, ...Operator[]];
      const request = (await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name))).body;
      const mallory = await createUser(admin, 'sig-mallory', ['requester']);
      const attacker = await attackerKeys();
      // The writer gives the victim's row the attacker's signing key and password hash.
      await sql(
        `UPDATE users SET signing_key = $2, signing_kid = $3, password_hash = (SELECT password_hash FROM users WHERE id = $4) WHERE id = $1`,
        [victim.id, attacker.signingKey, attacker.signingThumbprint, mallory.id],
      );
      const asVictim = await anonymous.login(victim.username, mallory.password);
      const forged: Operator = { id: victim.id, username: victim.username, http: asVictim, keys: attacker.keys, signingKid: attacker.signingThumbprint };
      const logged = gateway.logs.length;

      const res = await asVictim.post(`/api/v1/requests/${request.id}/approvals`, await decisionBody(forged, request, 'reject'));
      expect(res.status).toBe(422);
      expectNamesNobody(res.body.detail, victim);
      expect(errorsLoggedSince(logged).join('\n')).toMatch(/enrolled keys fail their MAC/);
      const after = (await q.automation.get(`/api/v1/requests/${request.id}`)).body;
      expect(after.status).toBe('pending');
      expect(after.approvals).toEqual([]);
    });

    it('a reveal is refused when the requester’s encryption key was swapped in SQL: the secret is never sealed to it', async () => {
      const q = await setUpSigningQuorum(anonymous, { prefix: 'rev' });
      const requester = await createOperator(admin, 'rev-requester', ['requester']);
      const policy = await q.lead.post('/api/v1/policies', {
        name: 'rev-break-glass',
        credentialId: q.credential.id,
        operations: [{ kind: 'reveal' }],
        approvals: { min: 2 },
        requesters: { users: [requester.id] },
      });
      expect(policy.status).toBe(201);
      const attacker = await attackerKeys();
      await sql('UPDATE users SET encryption_key = $2, encryption_kid = $3 WHERE id = $1', [requester.id, attacker.encryptionKey, attacker.encryptionThumbprint]);

      // Refused at submission, or at the latest when the execution would seal: never sealed to the attacker.
      const res = await requester.http.post('/api/v1/requests', { credential: q.credential.name, operation: { kind: 'reveal', params: {} }, reason: 'break glass' });
      if (res.status === 201) {
        for (const op of q.operators.slice(0, 2)) expect((await approve(op, res.body)).status).toBe(201);
        const done = (await requester.http.get(`/api/v1/requests/${res.body.id}/wait?timeoutSeconds=20`)).body;
        expect(done.status).toBe('failed');
        expect(done.result).not.toHaveProperty('envelope');
      } else {
        expect(res.status).toBe(422);
        expect(res.body.code).toBe('KEYS_NOT_ENROLLED');
      }
    });

    it('a reveal fails when the requester’s encryption key is swapped in SQL after the custodians were asked', async () => {
      const q = await setUpSigningQuorum(anonymous, { prefix: 'rev2' });
      const requester = await createOperator(admin, 'rev2-requester', ['requester']);
      const policy = await q.lead.post('/api/v1/policies', {
        name: 'rev2-break-glass',
        credentialId: q.credential.id,
        operations: [{ kind: 'reveal' }],
        approvals: { min: 2 },
        requesters: { users: [requester.id] },
      });
      expect(policy.status).toBe(201);
      const submitted = await requester.http.post('/api/v1/requests', { credential: q.credential.name, operation: { kind: 'reveal', params: {} }, reason: 'break glass' });
      expect(submitted.status).toBe(201);
      const attacker = await attackerKeys();
      await sql('UPDATE users SET encryption_key = $2, encryption_kid = $3 WHERE id = $1', [requester.id, attacker.encryptionKey, attacker.encryptionThumbprint]);
      for (const op of q.operators.slice(0, 2)) expect((await approve(op, submitted.body)).status).toBe(201);
      const done = (await requester.http.get(`/api/v1/requests/${submitted.body.id}/wait?timeoutSeconds=20`)).body;
      expect(done.status).toBe('failed');
      expect(done.result).not.toHaveProperty('envelope');
    });
  });

  describe('re-enrolling keys', () => {
    it('needs the current password; wrong ones are throttled like logins and leave the keys as they were', async () => {
      const op = await createOperator(admin, 'reenrol-op');
      const password = `${op.username}-password-for-tests`;
      const before = (await op.http.get('/api/v1/me')).body.keys;
      const fresh = await attackerKeys();
      const keys = { encryptionKey: fresh.encryptionKey, signingKey: fresh.signingKey };

      const missing = await op.http.put('/api/v1/me/keys', keys);
      expect(missing.status).toBe(400);
      expect(missing.body.detail).toMatch(/currentPassword/);
      const wrong = await op.http.put('/api/v1/me/keys', { ...keys, currentPassword: 'not-the-password' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('AUTH_INVALID_CREDENTIALS');
      expect((await op.http.get('/api/v1/me')).body.keys).toEqual(before);

      for (let i = 1; i < 10; i++) expect((await op.http.put('/api/v1/me/keys', { ...keys, currentPassword: `wrong-${i}` })).status).toBe(401);
      const throttled = await op.http.put('/api/v1/me/keys', { ...keys, currentPassword: password });
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await op.http.get('/api/v1/me')).body.keys).toEqual(before);
      // The password change counts against the same budget.
      expect((await op.http.put('/api/v1/me/password', { currentPassword: password, newPassword: 'a-new-password-for-tests' })).status).toBe(429);

      const other = await createOperator(admin, 'reenrol-other');
      const ok = await other.http.put('/api/v1/me/keys', { ...keys, currentPassword: `${other.username}-password-for-tests` });
      expect(ok.status).toBe(200);
      expect(ok.body.keys).toMatchObject({ encryptionThumbprint: fresh.encryptionThumbprint, signingThumbprint: fresh.signingThumbprint });
    });
  });

  describe('share assignments', () => {
    const columns = ['custodian_id', 'share_index', 'commitment', 'envelope'] as const;
    let q: QuorumSetup;
    let request: any;
    let credentialId: string;

    beforeAll(async () => {
      q = await setUpSigningQuorum(anonymous, { prefix: 'asg' });
      credentialId = q.credential.id;
      request = (await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name))).body;
    });

    const [op1, op2, op3] = [0, 1, 2].map((i) => () => q.operators[i]!);
    const fetchShare = (op: Operator) => op.http.get(`/api/v1/requests/${request.id}/share`);
    const view = async () => (await findRequestView(gateway.ctx.dataSource, request.id))!;

    /** Swaps one column between the rows of shares 1 and 2, through a parked value (the rows are unique on it). */
    async function swap(column: (typeof columns)[number], parked: unknown) {
      const where = 'credential_id = $1 AND version = 1 AND share_index = $2';
      const rows: Record<string, unknown>[] = await sql(`SELECT share_index, ${column} AS v FROM credential_shares WHERE credential_id = $1 AND version = 1 AND share_index IN (1, 2) ORDER BY share_index`, [credentialId]);
      const [one, two] = [rows[0]!.v, rows[1]!.v];
      if (column === 'share_index') {
        await sql(`UPDATE credential_shares SET share_index = $3 WHERE ${where}`, [credentialId, 1, parked]);
        await sql(`UPDATE credential_shares SET share_index = 1 WHERE ${where}`, [credentialId, 2]);
        await sql(`UPDATE credential_shares SET share_index = 2 WHERE ${where}`, [credentialId, parked]);
        return;
      }
      await sql(`UPDATE credential_shares SET ${column} = $3 WHERE ${where}`, [credentialId, 1, parked]);
      await sql(`UPDATE credential_shares SET ${column} = $3 WHERE ${where}`, [credentialId, 2, one]);
      await sql(`UPDATE credential_shares SET ${column} = $3 WHERE ${where}`, [credentialId, 1, two]);
    }

    it('are intact to begin with: each custodian fetches their share, and the execution’s assignments check', async () => {
      for (const op of [op1(), op2(), op3()]) expect((await fetchShare(op)).status).toBe(200);
      const assignments = await verifiedAssignments(gateway.ctx, await view());
      expect(assignments.map((a) => [a.userId, a.index])).toEqual(q.operators.map((op, i) => [op.id, i + 1]));
      const expected = (await view()).custodians.find((c) => c.index === 1)?.commitment;
      expect(assignedCommitment(assignments, op1().id, 1)).toBe(expected);
      expect(assignedCommitment(assignments, op2().id, 1)).toBeUndefined();
    });

    it.each(columns)('swapped %s between two rows: both custodians are refused their share and the execution refuses the assignments, naming nobody', async (column) => {
      // Where one row's value waits while the other's moves (the rows are unique on custodian and index).
      const parked = { custodian_id: (await sql(`SELECT id FROM users WHERE username = 'admin'`))[0].id, share_index: 200, commitment: '0'.repeat(64), envelope: 'parked' }[column];
      await swap(column, parked);
      try {
        const logged = gateway.logs.length;
        for (const op of [op1(), op2()]) {
          const res = await fetchShare(op);
          expect(res.status).toBe(409);
          expect(res.body).not.toHaveProperty('envelope');
          expectNamesNobody(res.body.detail, op1(), op2());
        }
        expect(errorsLoggedSince(logged).join('\n')).toMatch(/share assignments fail their MAC/);
        await expect(verifiedAssignments(gateway.ctx, await view())).rejects.toThrow(ShareAssignmentIntegrityError);
        // The third custodian's own row is untouched and still checks.
        expect((await fetchShare(op3())).status).toBe(200);
      } finally {
        await swap(column, parked);
      }
      expect((await fetchShare(op1())).status).toBe(200);
      await expect(verifiedAssignments(gateway.ctx, await view())).resolves.toHaveLength(3);
    });

    it('rows with no MAC (made before assignments carried one) fail closed', async () => {
      await sql('UPDATE credential_shares SET assignment_mac = NULL WHERE credential_id = $1 AND share_index = 3', [credentialId]);
      const res = await fetchShare(op3());
      expect(res.status).toBe(409);
      expect(res.body.detail).toMatch(/create the credential anew/);
      await expect(verifiedAssignments(gateway.ctx, await view())).rejects.toThrow(ShareAssignmentIntegrityError);
    });
  });

  describe("the gateway's own signing key", () => {
    it('is derived from its sealed private key: public columns set to an attacker key change nothing, and tokens it signs are refused', async () => {
      const original = gateway.ctx.signingKey;
      const attacker = await generateSigningJwk();
      const attackerKey = await loadAttackerKey(attacker);
      const columns: { column_name: string }[] = await sql(`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'gateway_keys'`);
      const names = columns.map((c) => c.column_name);
      if (names.includes('public_jwk')) await sql(`UPDATE gateway_keys SET public_jwk = $1`, [attackerKey.publicJwk]);
      if (names.includes('kid')) await sql(`UPDATE gateway_keys SET kid = $1`, [attackerKey.kid]);

      // What every gateway does at start.
      const reloaded = await loadOrCreateSigningKey(gateway.ctx.dataSource, gateway.ctx.masterKey);
      expect(reloaded.kid).toBe(original.kid);
      expect(reloaded.publicJwk).toEqual(original.publicJwk);
      const me = (await admin.get('/api/v1/me')).body;
      const forged = await issueAccessToken(attackerKey, me.id, Math.floor(Date.now() / 1000));
      expect(await verifyAccessToken(attackerKey, forged)).toBe(me.id);
      expect(await verifyAccessToken(reloaded, forged)).toBeUndefined();
      const genuine = await issueAccessToken(reloaded, me.id, Math.floor(Date.now() / 1000));
      expect(await verifyAccessToken(original, genuine)).toBe(me.id);
      // Nothing is left to read them from.
      expect(names).not.toContain('public_jwk');
      expect(names).not.toContain('kid');

      if (kind !== 'postgres') return;
      // A second gateway started on the same database answers the same through HTTP.
      const second: RunningGateway = await startGateway({ config: testConfig({ databaseUrl: gateway.databaseUrl, masterKey: gateway.ctx.masterKey }), logDestination: logCollector().destination });
      try {
        const http = new Http(second.url);
        expect((await http.as(forged).get('/api/v1/me')).status).toBe(401);
        expect((await http.as(genuine).get('/api/v1/me')).status).toBe(200);
        expect((await http.get('/.well-known/jwks.json')).body).toEqual({ keys: [original.publicJwk] });
      } finally {
        await second.close();
      }
    });
  });
});

async function loadAttackerKey(attacker: Awaited<ReturnType<typeof generateSigningJwk>>) {
  const { calculateJwkThumbprint, importJWK } = await import('jose');
  const kid = await calculateJwkThumbprint(attacker.publicJwk);
  const privateKey = (await importJWK(attacker.privateJwk, 'ES256')) as CryptoKey;
  return { kid, publicJwk: { ...attacker.publicJwk, kid, alg: 'ES256', use: 'sig' }, privateKey };
}
