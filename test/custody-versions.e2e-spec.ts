import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { combineShares, openSealedSecret } from '../libs/crypto/index.js';
import { exportPublicJwks, generateCustodianKeys, openOwnShare } from '../libs/custodian/index.js';
import { Http } from './support/http.js';
import { dumpAllTables, findLeaks } from './support/leak-scan.js';
import { approve, createOperator, decisionBody, createUser, generateSigningJwk, signRequestBody, type Operator } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './support/test-gateway.js';

const ES256 = { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } } as const;

/**
 * Issue 16 / spec §4a: credential versions, `credential.reshare` and `credential.rotate`
 * as custody requests approved by the current custodians' shares, intake keys, the
 * custody policy, and what a new version does to everything bound to the old one.
 */
describe.each(testDatabaseKinds())('credential versions, re-sharing and rotation (%s database)', (kind) => {
  let gateway: TestGateway;
  let admin: Http;
  let lead: Http;
  let automation: Http;
  let a: Operator, b: Operator, c: Operator, d: Operator, e: Operator;
  let credential: { id: string; name: string; publicJwk: JWK; custodyPolicyId: string };
  const signingKey: { privateJwk?: JWK; publicJwk?: JWK } = {};
  /** every secret byte string the tests see: none may be in a table or a log line */
  const secrets: Record<string, Uint8Array | string> = {};

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    lead = (await createUser(admin, 'cv-lead', ['security_lead'])).http;
    [a, b, c, d, e] = [await createOperator(admin, 'cv-a'), await createOperator(admin, 'cv-b'), await createOperator(admin, 'cv-c'), await createOperator(admin, 'cv-d'), await createOperator(admin, 'cv-e')];
    const account = await admin.post('/api/v1/service-accounts', { name: 'cv-ci', roles: ['requester'] });
    automation = admin.as(account.body.token);
    Object.assign(signingKey, await generateSigningJwk());
    secrets['original private key d'] = signingKey.privateJwk?.d ?? '';
    const created = await lead.post('/api/v1/credentials', { name: 'cv-release-key', kind: 'signing-key', secret: JSON.stringify(signingKey.privateJwk), custodians: [a.id, b.id, c.id], threshold: 2 });
    expect(created.status).toBe(201);
    credential = created.body;
    expect((await lead.post('/api/v1/policies', { name: 'cv-signing', credentialId: credential.id, operations: [{ kind: 'sign' }], approvals: { min: 2 } })).status).toBe(201);
  }, 240_000);
  afterAll(() => gateway.close());

  const kidOf = async (op: Operator) => (await exportPublicJwks(op.keys)).encryptionThumbprint;
  const flat = async (threshold: number, ops: Operator[]) => ({ threshold, custodians: await Promise.all(ops.map(async (op) => ({ userId: op.id, kid: await kidOf(op) }))) });
  const submitCustody = (opKind: string, params: Record<string, unknown>, cred = credential.id) => lead.post('/api/v1/requests', { credential: cred, operation: { kind: opKind, params }, reason: 'custody change (OPS-16)' });
  const waitFinal = async (id: string, http: Http = lead) => (await http.get(`/api/v1/requests/${id}/wait?timeoutSeconds=20`)).body;
  const current = async (id = credential.id) => (await admin.get(`/api/v1/credentials/${id}`)).body;

  /** Every share of the credential's stored current version, opened by its custodian's own key (what each device could do). */
  async function storedShares(ops: Operator[], id = credential.id): Promise<Map<string, Uint8Array>> {
    const rows: { custodian_id: string; envelope: string }[] = await gateway.ctx.dataSource.query(
      `SELECT s.custodian_id, s.envelope FROM credential_shares s JOIN credentials c ON c.id = s.credential_id AND c.version = s.version WHERE c.id = $1`,
      [id],
    );
    const out = new Map<string, Uint8Array>();
    for (const row of rows) {
      const op = ops.find((o) => o.id === row.custodian_id);
      if (op !== undefined) out.set(op.username, (await openOwnShare(row.envelope, op.keys.encryption.privateKey)).share);
    }
    return out;
  }

  async function storedSecret(id = credential.id): Promise<{ sealed: string; version: number; kind: string; config: Record<string, unknown> }> {
    const [row] = await gateway.ctx.dataSource.query('SELECT sealed_secret AS sealed, version, kind, config FROM credentials WHERE id = $1', [id]);
    return row;
  }

  async function opens(dataKey: Uint8Array, id = credential.id): Promise<boolean> {
    const s = await storedSecret(id);
    for (const ver of [1, 2, 3, 4, 5, 6, s.version]) {
      try {
        await openSealedSecret(s.sealed, dataKey, { cred: id, ver, kind: s.kind, config: s.config });
        return true;
      } catch {
        // the next version
      }
    }
    return false;
  }

  async function signAndVerify(approvers: Operator[], publicJwk: JWK): Promise<void> {
    const payload = Buffer.from(`signed after version change ${Math.random()}`).toString('base64url');
    const request = (await automation.post('/api/v1/requests', signRequestBody(credential.id, payload))).body;
    for (const op of approvers) expect((await approve(op, request)).status).toBe(201);
    const done = await waitFinal(request.id, automation);
    expect(done.status).toBe('succeeded');
    const key = await crypto.subtle.importKey('jwk', publicJwk, ES256.import, false, ['verify']);
    expect(await crypto.subtle.verify(ES256.verify, key, Buffer.from(done.result.signature, 'base64url'), Buffer.from(payload, 'base64url'))).toBe(true);
  }

  it('creating a credential creates its custody policy: reshare and rotate, security leads only, min = Σt, 24 h; other policies may not name custody operations', async () => {
    expect(credential.custodyPolicyId).toEqual(expect.any(String));
    const policy = (await lead.get(`/api/v1/policies/${credential.custodyPolicyId}`)).body;
    expect(policy).toMatchObject({
      credentialId: credential.id,
      operations: [{ kind: 'credential.reshare' }, { kind: 'credential.rotate' }],
      approvals: { min: 2, allowRequesterApproval: false },
      requesters: { roles: ['security_lead'] },
      requestTtlSeconds: 86400,
    });
    const refused = await lead.post('/api/v1/policies', { name: 'cv-sneaky', credentialId: credential.id, operations: [{ kind: 'credential.rotate' }], approvals: { min: 2 } });
    expect([refused.status, refused.body.code]).toEqual([400, 'POLICY_INVALID']);
    // A requester is not a security lead: the custody policy does not admit them.
    const requester = await automation.post('/api/v1/requests', { credential: credential.id, operation: { kind: 'credential.rotate', params: { generate: { alg: 'ES256' } } }, reason: 'not a security lead' });
    expect([requester.status, requester.body.code]).toEqual([403, 'NO_MATCHING_POLICY']);
  }, 180_000);

  it('re-share 2-of-3 {a,b,c} → 2-of-3 {b,c,d}, approved by a+b: a is out, c+d sign with the original key, version-1 shares open nothing, an older request ends cancelled', async () => {
    const before = await automation.post('/api/v1/requests', signRequestBody(credential.id));
    expect(before.status).toBe(201);
    expect((await approve(b, before.body)).status).toBe(201);
    const v1 = await storedShares([a, b, c]);
    expect(v1.size).toBe(3);
    v1.forEach((share, name) => (secrets[`v1 share of ${name}`] = share));
    secrets['v1 data key'] = combineShares([v1.get('cv-a')!, v1.get('cv-b')!]);
    expect(await opens(secrets['v1 data key'] as Uint8Array)).toBe(true);

    const request = await submitCustody('credential.reshare', { sharing: await flat(2, [b, c, d]) });
    expect(request.status).toBe(201);
    expect(request.body).toMatchObject({ policyId: credential.custodyPolicyId, approvals: { required: 2 } });
    expect(request.body.digestInput.credential).toEqual({ id: credential.id, version: 1 });
    // Approvers read who receives the new shares: the new custodian is named.
    expect((await a.http.get(`/api/v1/requests/${request.body.id}`)).body.names).toMatchObject({ [d.id]: 'cv-d' });
    expect((await approve(a, request.body)).status).toBe(201);
    expect((await approve(b, request.body)).status).toBe(201);
    const done = await waitFinal(request.body.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { version: 2 } });

    const now = await current();
    expect(now.version).toBe(2);
    expect(now.custodians.map((x: { userId: string }) => x.userId).sort()).toEqual([b.id, c.id, d.id].sort());
    expect((await gateway.ctx.dataSource.query('SELECT DISTINCT version FROM credential_shares WHERE credential_id = $1', [credential.id])).map((r: { version: number }) => r.version)).toEqual([2]);

    // The request submitted before: cancelled with the reason; an approval for it is refused.
    const old = await waitFinal(before.body.id, automation);
    expect(old.status).toBe('cancelled');
    const [cancelled] = await gateway.ctx.dataSource.query(`SELECT data FROM audit_log WHERE action = 'request.cancelled' AND subject = $1`, [`request:${before.body.id}`]);
    expect(cancelled.data).toMatchObject({ reason: 'credential_version_changed', version: 2 });
    const late = await c.http.post(`/api/v1/requests/${before.body.id}/approvals`, await decisionBody(c, before.body, 'reject'));
    expect([late.status, late.body.code]).toEqual([409, 'REQUEST_NOT_PENDING']);

    // a holds nothing any more.
    expect((await a.http.get(`/api/v1/credentials/${credential.id}/share`)).status).toBe(403);
    expect((await d.http.get(`/api/v1/credentials/${credential.id}/share`)).body).toMatchObject({ version: 2 });

    await signAndVerify([c, d], signingKey.publicJwk!);

    // Every version-1 share, alone, paired or mixed with version-2 shares, opens no stored secret.
    const v2 = await storedShares([b, c, d]);
    v2.forEach((share, name) => (secrets[`v2 share of ${name}`] = share));
    secrets['v2 data key'] = combineShares([v2.get('cv-b')!, v2.get('cv-c')!]);
    expect(await opens(secrets['v2 data key'] as Uint8Array)).toBe(true);
    const old1 = [...v1.values()];
    const new2 = [...v2.values()];
    const tries = [
      [old1[0]!, old1[1]!], [old1[0]!, old1[2]!], [old1[1]!, old1[2]!], old1,
      ...old1.flatMap((o) => new2.map((n) => [o, n])),
    ];
    for (const shares of tries) {
      let key: Uint8Array;
      try {
        key = combineShares(shares);
      } catch {
        continue;
      }
      expect(await opens(key)).toBe(false);
    }

    const versions = (await c.http.get(`/api/v1/credentials/${credential.id}/versions`)).body.versions;
    expect(versions).toHaveLength(2);
    expect(versions[1]).toMatchObject({
      version: 2,
      change: 'credential.reshare',
      requestId: request.body.id,
      configChanged: false,
      secretChanged: false,
      structure: { groups: [{ name: 'custodians', threshold: 2, custodians: expect.arrayContaining([{ userId: d.id, kid: await kidOf(d) }]) }] },
    });
    expect(versions[0]).toMatchObject({ version: 1, change: 'credential.created', requestId: null });
  }, 180_000);

  it('a refresh to the same set: the old shares are useless, the new ones work', async () => {
    const v2 = [...(await storedShares([b, c, d])).values()];
    const request = await submitCustody('credential.reshare', { sharing: await flat(2, [b, c, d]) });
    expect(request.status).toBe(201);
    expect((await approve(c, request.body)).status).toBe(201);
    expect((await approve(d, request.body)).status).toBe(201);
    expect(await waitFinal(request.body.id)).toMatchObject({ status: 'succeeded', result: { version: 3 } });
    expect(await opens(combineShares([v2[0]!, v2[1]!]))).toBe(false);
    expect(await opens(combineShares([v2[1]!, v2[2]!]))).toBe(false);
    const v3 = await storedShares([b, c, d]);
    v3.forEach((share, name) => (secrets[`v3 share of ${name}`] = share));
    expect(await opens(combineShares([v3.get('cv-b')!, v3.get('cv-d')!]))).toBe(true);
    await signAndVerify([b, d], signingKey.publicJwk!);
  }, 180_000);

  it('rotate to a new secret sealed to an intake key: version + 1, the old secret unreachable; a used or expired intake key is refused', async () => {
    const oldShares = [...(await storedShares([b, c, d])).values()];
    const replacement = await generateSigningJwk();
    secrets['rotated private key d'] = replacement.privateJwk.d ?? '';
    const seal = async (key: { kid: string; publicJwk: JWK }, version: number, plaintext = JSON.stringify(replacement.privateJwk)) =>
      new CompactEncrypt(Buffer.from(plaintext))
        .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: key.kid, cred: credential.id, ver: version, purpose: 'rotate' })
        .encrypt(await importJWK(key.publicJwk, 'ECDH-ES+A256KW'));

    // Only security leads get intake keys.
    expect((await automation.post(`/api/v1/credentials/${credential.id}/intake-keys`, {})).status).toBe(403);
    const intake = await lead.post(`/api/v1/credentials/${credential.id}/intake-keys`, {});
    expect(intake.status).toBe(201);
    expect(intake.body).toMatchObject({ kid: expect.any(String), publicJwk: { kty: 'EC', crv: 'P-256' }, expiresAt: expect.any(String) });
    expect(intake.body.publicJwk).not.toHaveProperty('d');
    const [stored] = await gateway.ctx.dataSource.query('SELECT * FROM intake_keys WHERE kid = $1', [intake.body.kid]);
    expect(stored.private_key_sealed).toEqual(expect.any(String));

    const jwe = await seal(intake.body, 3);
    const request = await submitCustody('credential.rotate', { secret: jwe });
    expect(request.status).toBe(201);
    // Used: the same JWE, or another one to the same key, cannot ride on a second request.
    const reused = await submitCustody('credential.rotate', { secret: jwe });
    expect([reused.status, reused.body.code]).toEqual([400, 'INTAKE_KEY_REFUSED']);
    // Expired: an unclaimed key past its hour.
    const stale = (await lead.post(`/api/v1/credentials/${credential.id}/intake-keys`, {})).body;
    await gateway.ctx.dataSource.query(`UPDATE intake_keys SET expires_at = now() - interval '1 second' WHERE kid = $1`, [stale.kid]);
    const expired = await submitCustody('credential.rotate', { secret: await seal(stale, 3) });
    expect([expired.status, expired.body.code]).toEqual([400, 'INTAKE_KEY_REFUSED']);
    // For another version, and not a JWE at all.
    const other = (await lead.post(`/api/v1/credentials/${credential.id}/intake-keys`, {})).body;
    const otherVersion = await submitCustody('credential.rotate', { secret: await seal(other, 2) });
    expect([otherVersion.status, otherVersion.body.code]).toEqual([400, 'INTAKE_KEY_REFUSED']);
    expect((await submitCustody('credential.rotate', { secret: 'not-a-jwe' })).body.code).toBe('INTAKE_KEY_REFUSED');
    expect((await submitCustody('credential.rotate', { secret: jwe, generate: { alg: 'ES256' } })).status).toBe(400);
    expect((await submitCustody('credential.rotate', {})).status).toBe(400);

    expect((await approve(b, request.body)).status).toBe(201);
    expect((await approve(c, request.body)).status).toBe(201);
    const done = await waitFinal(request.body.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { version: 4, publicJwk: { x: replacement.publicJwk.x } } });
    expect((await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM intake_keys WHERE kid = $1', [intake.body.kid]))[0].n).toBe(0);
    expect((await current()).publicJwk).toMatchObject({ x: replacement.publicJwk.x });
    expect(await opens(combineShares([oldShares[0]!, oldShares[1]!]))).toBe(false);
    const v4 = await storedShares([b, c, d]);
    const dataKey = combineShares([v4.get('cv-c')!, v4.get('cv-d')!]);
    secrets['v4 data key'] = dataKey;
    const s = await storedSecret();
    expect(JSON.parse((await openSealedSecret(s.sealed, dataKey, { cred: credential.id, ver: 4, kind: s.kind, config: s.config })).toString('utf8'))).toMatchObject({ d: replacement.privateJwk.d });
    await signAndVerify([c, d], replacement.publicJwk);
    signingKey.publicJwk = replacement.publicJwk;
  }, 180_000);

  it('rotate with generate: a key pair made inside the gateway, version + 1, only its public half answered', async () => {
    const request = await submitCustody('credential.rotate', { generate: { alg: 'ES256' } });
    expect(request.status).toBe(201);
    expect((await approve(b, request.body)).status).toBe(201);
    expect((await approve(d, request.body)).status).toBe(201);
    const done = await waitFinal(request.body.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { version: 5, publicJwk: { kty: 'EC', x: expect.any(String) } } });
    expect(JSON.stringify(done)).not.toMatch(/"d"/);
    const now = await current();
    expect(now).toMatchObject({ version: 5, generated: true, publicJwk: { x: done.result.publicJwk.x } });
    const v5 = await storedShares([b, c, d]);
    const s = await storedSecret();
    const generated = JSON.parse((await openSealedSecret(s.sealed, combineShares([v5.get('cv-b')!, v5.get('cv-c')!]), { cred: credential.id, ver: 5, kind: s.kind, config: s.config })).toString('utf8'));
    secrets['generated private key d'] = generated.d;
    await signAndVerify([b, c], now.publicJwk);
  }, 180_000);

  it('config changes only through an approved rotate; kind never changes', async () => {
    const created = await lead.post('/api/v1/credentials', { name: 'cv-api-token', kind: 'http-token', config: { baseUrl: 'https://api.internal.example' }, secret: 'cv-token-secret-0123456789', custodians: [a.id, b.id], threshold: 2 });
    expect(created.status).toBe(201);
    secrets['api token'] = 'cv-token-secret-0123456789';
    expect((await lead.request('PATCH', `/api/v1/credentials/${created.body.id}`, { config: { baseUrl: 'https://evil.example' } })).status).toBeGreaterThanOrEqual(404);
    const bad = await submitCustody('credential.rotate', { config: { baseUrl: 'not a url' } }, created.body.id);
    expect(bad.status).toBe(400);
    const request = await submitCustody('credential.rotate', { config: { baseUrl: 'https://api2.internal.example' } }, created.body.id);
    expect(request.status).toBe(201);
    expect((await approve(a, request.body)).status).toBe(201);
    expect((await approve(b, request.body)).status).toBe(201);
    expect(await waitFinal(request.body.id)).toMatchObject({ status: 'succeeded', result: { version: 2 } });
    expect(await current(created.body.id)).toMatchObject({ kind: 'http-token', version: 2, config: { baseUrl: 'https://api2.internal.example' } });
    const [entry] = (await a.http.get(`/api/v1/credentials/${created.body.id}/versions`)).body.versions.slice(-1);
    expect(entry).toMatchObject({ change: 'credential.rotate', configChanged: true, secretChanged: false });
    const shares = await storedShares([a, b], created.body.id);
    const s = await storedSecret(created.body.id);
    expect((await openSealedSecret(s.sealed, combineShares([...shares.values()]), { cred: created.body.id, ver: 2, kind: 'http-token', config: s.config })).toString('utf8')).toBe('cv-token-secret-0123456789');
  }, 180_000);

  it('a re-share whose execution finds a custodian key changed since submission fails, sealing nothing', async () => {
    const version = (await current()).version;
    const request = await submitCustody('credential.reshare', { sharing: await flat(2, [b, c, e]) });
    expect(request.status).toBe(201);
    // e re-enrols new keys after the approvers' digest named the old one.
    const keys = await generateCustodianKeys();
    const jwks = await exportPublicJwks(keys);
    expect((await e.http.put('/api/v1/me/keys', { encryptionKey: jwks.encryptionKey, signingKey: jwks.signingKey, currentPassword: 'cv-e-password-for-tests' })).status).toBe(200);
    expect((await approve(b, request.body)).status).toBe(201);
    expect((await approve(c, request.body)).status).toBe(201);
    const done = await waitFinal(request.body.id);
    expect(done).toMatchObject({ status: 'failed', result: { code: 'CUSTODIAN_KEY_CHANGED' } });
    expect((await current()).version).toBe(version);
    expect((await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM credential_shares WHERE credential_id = $1 AND version <> $2', [credential.id, version]))[0].n).toBe(0);
    // A kid that is not e's enrolled key is refused at submission.
    const refused = await submitCustody('credential.reshare', { sharing: await flat(2, [b, c, e]) });
    expect([refused.status, refused.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    e.keys = keys;
  }, 180_000);

  it('a failure between combine and commit leaves the old version current and intact', async () => {
    const before = await storedSecret();
    const shares = await gateway.ctx.dataSource.query('SELECT share_index, envelope, commitment FROM credential_shares WHERE credential_id = $1 ORDER BY share_index', [credential.id]);
    // The fault: the transaction that would store the new version aborts after the new shares are sealed.
    await gateway.ctx.dataSource.query(`CREATE FUNCTION cv_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$`);
    await gateway.ctx.dataSource.query(`CREATE TRIGGER cv_fail BEFORE INSERT ON credential_shares FOR EACH ROW EXECUTE FUNCTION cv_fail()`);
    try {
      const request = await submitCustody('credential.reshare', { sharing: await flat(2, [b, c, d]) });
      expect((await approve(b, request.body)).status).toBe(201);
      expect((await approve(c, request.body)).status).toBe(201);
      expect(await waitFinal(request.body.id)).toMatchObject({ status: 'failed' });
    } finally {
      await gateway.ctx.dataSource.query('DROP TRIGGER cv_fail ON credential_shares');
      await gateway.ctx.dataSource.query('DROP FUNCTION cv_fail()');
    }
    expect(await storedSecret()).toEqual(before);
    expect(await gateway.ctx.dataSource.query('SELECT share_index, envelope, commitment FROM credential_shares WHERE credential_id = $1 ORDER BY share_index', [credential.id])).toEqual(shares);
    await signAndVerify([c, d], (await current()).publicJwk);
  }, 180_000);

  it("a database writer who moves another intake key's sealed private key into the claimed key's row gets a failed rotation, and nothing changes (spec §2 item 11)", async () => {
    const before = await current();
    const beforeSecret = await storedSecret();
    const claimed = (await lead.post(`/api/v1/credentials/${credential.id}/intake-keys`, {})).body;
    const other = (await lead.post(`/api/v1/credentials/${credential.id}/intake-keys`, {})).body;
    const replacement = await generateSigningJwk();
    secrets['swap-test private key d'] = replacement.privateJwk.d ?? '';
    const jwe = await new CompactEncrypt(Buffer.from(JSON.stringify(replacement.privateJwk)))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: claimed.kid, cred: credential.id, ver: before.version, purpose: 'rotate' })
      .encrypt(await importJWK(claimed.publicJwk, 'ECDH-ES+A256KW'));
    const request = await submitCustody('credential.rotate', { secret: jwe });
    expect(request.status).toBe(201);
    // The writer has no master key: all it can do is move sealed blobs between rows.
    await gateway.ctx.dataSource.query(`UPDATE intake_keys SET private_key_sealed = (SELECT private_key_sealed FROM intake_keys WHERE kid = $2) WHERE kid = $1`, [claimed.kid, other.kid]);
    expect((await approve(b, request.body)).status).toBe(201);
    expect((await approve(c, request.body)).status).toBe(201);
    expect(await waitFinal(request.body.id)).toMatchObject({ status: 'failed', result: { code: 'INTAKE_KEY_REFUSED' } });
    expect((await current()).version).toBe(before.version);
    expect(await storedSecret()).toEqual(beforeSecret);
    await signAndVerify([c, d], before.publicJwk);
  }, 180_000);

  it('two custody requests on one version: one wins, the other fails credential_version_changed; never two current versions; a policy the new version makes impossible is outdated', async () => {
    const created = await lead.post('/api/v1/credentials', { name: 'cv-race', kind: 'signing-key', generate: { alg: 'ES256' }, custodians: [a.id, b.id, c.id], threshold: 2 });
    const id = created.body.id;
    expect((await lead.post('/api/v1/policies', { name: 'cv-race-all', credentialId: id, operations: [{ kind: 'sign' }], approvals: { min: 3 } })).status).toBe(201);
    const first = (await submitCustody('credential.reshare', { sharing: await flat(2, [a, b]) }, id)).body;
    const second = (await submitCustody('credential.reshare', { sharing: await flat(2, [b, c]) }, id)).body;
    expect((await approve(a, first)).status).toBe(201);
    expect((await approve(c, second)).status).toBe(201);
    const last = await Promise.all([approve(b, first), approve(b, second)]);
    expect(last.map((r) => r.status).filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    const outcomes = [await waitFinal(first.id), await waitFinal(second.id)];
    expect(outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(1);
    const loser = outcomes.find((o) => o.status !== 'succeeded');
    if (loser.status === 'failed') {
      expect(loser.result).toMatchObject({ code: 'CREDENTIAL_VERSION_CHANGED' });
    } else {
      expect(loser.status).toBe('cancelled');
      const [entry] = await gateway.ctx.dataSource.query(`SELECT data FROM audit_log WHERE action = 'request.cancelled' AND subject = $1`, [`request:${loser.id}`]);
      expect(entry.data.reason).toBe('credential_version_changed');
    }
    expect((await current(id)).version).toBe(2);
    expect(await gateway.ctx.dataSource.query('SELECT DISTINCT version FROM credential_shares WHERE credential_id = $1', [id])).toEqual([{ version: 2 }]);
    // min 3 of 2 custodians: outdated, refused with 409 until a security lead edits it.
    const refused = await automation.post('/api/v1/requests', signRequestBody(id));
    expect([refused.status, refused.body.code]).toEqual([409, 'POLICY_OUTDATED']);
    const policies = (await lead.get('/api/v1/policies')).body.policies.filter((p: { credentialId: string }) => p.credentialId === id);
    const all = policies.find((p: { name: string }) => p.name === 'cv-race-all');
    expect(all).toMatchObject({ custody: false, disabledReason: 'policy_outdated', approvals: { min: 3 } });
    expect(policies.find((p: { custody: boolean }) => p.custody)).toMatchObject({ disabledReason: null, approvals: { min: 2 } });
    expect((await lead.request('PATCH', `/api/v1/policies/${all.id}`, { approvals: { min: 1 } })).status).toBe(400);
    expect((await lead.request('PATCH', `/api/v1/policies/${all.id}`, { approvals: { min: 2 } })).status).toBe(200);
    expect((await automation.post('/api/v1/requests', signRequestBody(id))).status).toBe(201);
  }, 180_000);

  it('leaves no data key, share or secret of any version in any table or log line (invariant 1)', async () => {
    expect(Object.keys(secrets).length).toBeGreaterThan(10);
    const haystack = (await dumpAllTables(gateway.ctx.dataSource)) + '\n' + gateway.logs.join('\n');
    expect(haystack).toContain('credential.version_created');
    expect(findLeaks(haystack, secrets)).toEqual([]);
  });

  it('the margin drops when a custodian is disabled and rises again after a re-share replaces them (spec §4a Health)', async () => {
    const created = await lead.post('/api/v1/credentials', { name: 'cv-margin-key', kind: 'http-token', config: { baseUrl: 'https://api.example.test' }, secret: 'margin-token-for-tests-only', custodians: [c.id, d.id, e.id], threshold: 2 });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const margin = async () => (await lead.get(`/api/v1/credentials/${id}/health`)).body.margin;
    expect(await margin()).toBe(1);
    expect((await admin.request('PATCH', `/api/v1/users/${e.id}`, { disabled: true })).status).toBe(200);
    expect(await margin()).toBe(0);
    const reshare = await submitCustody('credential.reshare', { sharing: await flat(2, [c, d, b]) }, id);
    expect(reshare.status).toBe(201);
    expect((await approve(c, reshare.body)).status).toBe(201);
    expect((await approve(d, reshare.body)).status).toBe(201);
    expect(await waitFinal(reshare.body.id)).toMatchObject({ status: 'succeeded', result: { version: 2 } });
    expect(await margin()).toBe(1);
  }, 180_000);
});
