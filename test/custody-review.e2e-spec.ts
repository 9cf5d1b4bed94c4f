import { exportPublicJwks, generateCustodianKeys } from '../libs/custodian/index.js';
import { Http } from './support/http.js';
import { setUpSigningQuorum, type Operator, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/**
 * Issue 16 items 7 and 8: a custodian holding shares may re-enrol keys (with their
 * current password); their shares then count as lost at once, and the security lead
 * sees which credentials lost a live share, and to which new key each goes.
 */
describe.each(testDatabaseKinds())('re-enrolment while holding shares and the lost-key list (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  let auditor: Http;
  const anonymous = () => new Http(gateway.url);

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    q = await setUpSigningQuorum(anonymous(), { prefix: 'rv', n: 3, k: 2 });
    const created = await q.admin.post('/api/v1/users', { username: 'rv-auditor', password: 'rv-auditor-password-for-tests', displayName: 'rv-auditor', roles: ['auditor'] });
    expect(created.status).toBe(201);
    auditor = await anonymous().login('rv-auditor', 'rv-auditor-password-for-tests');
  });
  afterAll(() => gateway.close());

  const health = async () => {
    const res = await q.lead.get(`/api/v1/credentials/${q.credential.id}/health`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const custodianIn = (h: any, userId: string) => h.groups.flatMap((g: any) => g.custodians).find((c: any) => c.userId === userId);
  const passwordOf = (op: Operator) => `${op.username}-password-for-tests`;
  const freshKeys = async () => {
    const keys = await generateCustodianKeys();
    const jwks = await exportPublicJwks(keys);
    return { body: { encryptionKey: jwks.encryptionKey, signingKey: jwks.signingKey }, thumbprint: jwks.encryptionThumbprint };
  };

  it('health names the key each share is sealed to and the key each custodian enrolled; the users list gives the same thumbprint', async () => {
    const h = await health();
    expect(h.margin).toBe(1);
    const users = (await q.lead.get('/api/v1/users')).body.users;
    for (const op of q.operators) {
      const c = custodianIn(h, op.id);
      const me = (await op.http.get('/api/v1/me')).body;
      expect(c.kid).toBe(me.keys.encryptionThumbprint);
      expect(c.enrolledKid).toBe(me.keys.encryptionThumbprint);
      expect(users.find((u: any) => u.id === op.id).encryptionThumbprint).toBe(me.keys.encryptionThumbprint);
    }
    expect(users.find((u: any) => u.username === 'rv-auditor').encryptionThumbprint).toBeNull();
    expect((await q.lead.get('/api/v1/custody/affected')).body).toEqual({ credentials: [] });
  });

  it('a custodian holding shares re-enrols only with the right current password; nothing changes otherwise', async () => {
    const op = q.operators[0]!;
    const before = (await op.http.get('/api/v1/me')).body.keys;
    const { body } = await freshKeys();

    const missing = await op.http.put('/api/v1/me/keys', body);
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('VALIDATION_FAILED');
    expect(missing.body.detail).toMatch(/currentPassword/);
    const wrong = await op.http.put('/api/v1/me/keys', { ...body, currentPassword: 'not-the-password' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('AUTH_INVALID_CREDENTIALS');

    expect((await op.http.get('/api/v1/me')).body.keys).toEqual(before);
    const h = await health();
    expect(h.margin).toBe(1);
    expect(custodianIn(h, op.id)).toMatchObject({ live: true, reasons: [] });
  });

  it('after a re-enrolment the margin drops at once (keys_changed), and the lost-key list names the credential, the share key and the new key', async () => {
    const [op, other] = [q.operators[0]!, q.operators[1]!];
    const oldKid = (await op.http.get('/api/v1/me')).body.keys.encryptionThumbprint;
    const fresh = await freshKeys();
    const enrolled = await op.http.put('/api/v1/me/keys', { ...fresh.body, currentPassword: passwordOf(op) });
    expect(enrolled.status).toBe(200);
    expect(enrolled.body.keys.encryptionThumbprint).toBe(fresh.thumbprint);

    const h = await health();
    expect(h.margin).toBe(0);
    expect(custodianIn(h, op.id)).toMatchObject({ live: false, reasons: ['keys_changed'], kid: oldKid, enrolledKid: fresh.thumbprint });
    expect(custodianIn(h, other.id)).toMatchObject({ live: true });

    for (const viewer of [q.lead, q.admin, auditor]) {
      const affected = await viewer.get('/api/v1/custody/affected');
      expect(affected.status).toBe(200);
      expect(affected.body.credentials).toHaveLength(1);
      expect(affected.body.credentials[0]).toMatchObject({ credentialId: q.credential.id, name: q.credential.name, version: q.credential.version, margin: 0 });
      expect(custodianIn(affected.body.credentials[0], op.id)).toMatchObject({ kid: oldKid, enrolledKid: fresh.thumbprint, reasons: ['keys_changed'] });
    }
    expect((await q.lead.get(`/api/v1/custody/affected?userId=${op.id}`)).body.credentials.map((c: any) => c.credentialId)).toEqual([q.credential.id]);
    expect((await q.lead.get(`/api/v1/custody/affected?userId=${other.id}`)).body.credentials).toEqual([]);
    for (const caller of [op.http, anonymous().as(q.serviceToken)]) expect((await caller.get('/api/v1/custody/affected')).status).toBe(403);
  });

  it('refuses a malformed filter with a clear 400', async () => {
    for (const bad of ['not-a-uuid', "1' OR '1'='1", '']) {
      const res = await q.lead.get(`/api/v1/custody/affected?userId=${encodeURIComponent(bad)}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
    const unknown = await q.lead.get('/api/v1/custody/affected?extra=1');
    expect(unknown.status).toBe(400);
  });

  it('a custodian disabled by an admin appears in the list too, with the reason', async () => {
    const target = q.operators[2]!;
    expect((await q.admin.request('PATCH', `/api/v1/users/${target.id}`, { disabled: true })).status).toBe(200);
    const affected = (await q.lead.get(`/api/v1/custody/affected?userId=${target.id}`)).body.credentials;
    expect(affected).toHaveLength(1);
    expect(custodianIn(affected[0], target.id).reasons).toContain('disabled');
    expect(affected[0].margin).toBe(-1);
  });
});
