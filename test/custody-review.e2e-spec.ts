import { exportPublicJwks, generateCustodianKeys } from '../libs/custodian/index.js';
import { Http } from './support/http.js';
import { HttpReceiver, waitUntil } from './support/receivers.js';
import { createOperator, setUpSigningQuorum, type Operator, type QuorumSetup } from './support/quorum.js';
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
  }, 300000);
  afterAll(() => gateway?.close());

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

/** `credential.margin_low`: announced once when a change to a custodian takes a credential's margin from 1 or more to below 1. */
describe.each(testDatabaseKinds())('credential.margin_low notifications (%s database)', (kind) => {
  let gateway: TestGateway;
  let receiver: HttpReceiver;
  let a: QuorumSetup;
  let b: { id: string; name: string };
  let x: Operator;
  let y: Operator;
  let secret: string;

  beforeAll(async () => {
    receiver = await new HttpReceiver().start();
    gateway = await startTestGateway(kind, { publicUrl: 'https://qg.example.test' });
    a = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'mla', n: 3, k: 2 });
    // b: 1 of 3 (margin 2) over two new operators and one of a's custodians who stays as they are.
    x = await createOperator(a.admin, 'mlb-x');
    y = await createOperator(a.admin, 'mlb-y');
    const created = await a.lead.post('/api/v1/credentials', { name: 'mlb-key', kind: 'signing-key', generate: { alg: 'ES256' }, custodians: [x.id, y.id, a.operators[2]!.id], threshold: 1 });
    expect(created.status).toBe(201);
    b = created.body;
    const channel = await a.admin.post('/api/v1/notification-channels', { name: 'margins', kind: 'webhook', config: { url: `${receiver.url}/margin` }, events: ['credential.margin_low'] });
    expect(channel.status).toBe(201);
    expect(channel.body.events).toEqual(['credential.margin_low']);
    secret = channel.body.signingSecret;
  }, 300000);
  afterAll(async () => {
    await gateway?.close();
    await receiver?.stop();
  });

  const events = () => receiver.verified('/margin', secret);
  const eventsFor = (name: string) => events().filter((e) => e.data.credential.name === name);

  it('fires on a re-enrolment, a disable and a role removal that cross below 1, once each, and never while the margin stays at 1 or more', async () => {
    // a: 2 of 3 (margin 1). A custodian re-enrols: margin 0.
    const op = a.operators[0]!;
    const keys = await exportPublicJwks(await generateCustodianKeys());
    expect((await op.http.put('/api/v1/me/keys', { encryptionKey: keys.encryptionKey, signingKey: keys.signingKey, currentPassword: `${op.username}-password-for-tests` })).status).toBe(200);
    await waitUntil(() => eventsFor(a.credential.name).length > 0, 'margin_low for a');
    const [first] = eventsFor(a.credential.name);
    expect(first).toMatchObject({
      type: 'credential.margin_low',
      data: { credential: { id: a.credential.id, name: a.credential.name, version: a.credential.version }, margin: 0, notLive: [{ userId: op.id, username: op.username, reasons: ['keys_changed'] }], link: 'https://qg.example.test/credentials' },
    });
    expect(JSON.stringify(first)).not.toMatch(/envelope|"d":|share/i);

    // b: 1 of 3 (margin 2). Disabling one custodian leaves margin 1: nothing.
    expect((await a.admin.request('PATCH', `/api/v1/users/${x.id}`, { disabled: true })).status).toBe(200);
    // Removing another's operator role: margin 0, announced.
    expect((await a.admin.request('PATCH', `/api/v1/users/${y.id}`, { roles: [] })).status).toBe(200);
    await waitUntil(() => eventsFor(b.name).length > 0, 'margin_low for b');
    expect(eventsFor(b.name)[0]?.data).toMatchObject({ margin: 0, credential: { id: b.id } });
    expect(eventsFor(b.name)[0]?.data.notLive.map((c: any) => [c.username, c.reasons])).toEqual(
      expect.arrayContaining([
        [x.username, ['disabled']],
        [y.username, ['no_operator_role']],
      ]),
    );

    // Already below 1: disabling a second custodian of a (margin −1) announces nothing new.
    expect((await a.admin.request('PATCH', `/api/v1/users/${a.operators[1]!.id}`, { disabled: true })).status).toBe(200);
    const health = await a.lead.get(`/api/v1/credentials/${a.credential.id}/health`);
    expect(health.body.margin).toBe(-1);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(eventsFor(a.credential.name)).toHaveLength(1);
    expect(eventsFor(b.name)).toHaveLength(1);
    expect(events()).toHaveLength(2);

    // b back to margin 1 (y an operator again) ends the stretch; the next drop is announced again, as a new event.
    expect((await a.admin.request('PATCH', `/api/v1/users/${y.id}`, { roles: ['operator'] })).status).toBe(200);
    await waitUntil(async () => (await a.lead.get(`/api/v1/credentials/${b.id}/health`)).body.margin === 1, 'b back at margin 1');
    await waitUntil(async () => (await gateway.ctx.dataSource.query('SELECT 1 FROM credential_margin_alerts WHERE credential_id = $1', [b.id])).length === 0, 'the stretch below 1 to end');
    expect((await a.admin.request('PATCH', `/api/v1/users/${y.id}`, { disabled: true })).status).toBe(200);
    await waitUntil(() => eventsFor(b.name).length === 2, 'a second margin_low for b');
    const ids = eventsFor(b.name).map((e) => e.id);
    expect(new Set(ids).size).toBe(2);
  });

  it('is a channel event like the others: offered, validated, and refused when misspelt', async () => {
    const bad = await a.admin.post('/api/v1/notification-channels', { name: 'typo', kind: 'webhook', config: { url: `${receiver.url}/x` }, events: ['credential.margin_lowest'] });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });
});
