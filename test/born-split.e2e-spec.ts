import { combineShares, openSealedSecret } from '../libs/crypto/index.js';
import { Http } from './support/http.js';
import { dumpAllTables, findLeaks } from './support/leak-scan.js';
import { approve, createOperator, createUser, ownShare, signRequestBody, type Operator } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './support/test-gateway.js';

const VERIFY = {
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
  EdDSA: { import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } },
} as const;

/** Spec §4 `generate: {alg}`: a signing key made inside the gateway, sealed and split at birth; nobody ever holds its private half. */
describe.each(testDatabaseKinds())('born-split signing keys (%s database)', (kind) => {
  let gateway: TestGateway;
  let admin: Http;
  let lead: Http;
  let operators: Operator[];
  let automation: Http;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    admin = await new Http(gateway.url).login('admin', ADMIN_PASSWORD);
    lead = (await createUser(admin, 'bs-lead', ['security_lead'])).http;
    operators = [await createOperator(admin, 'bs-op1'), await createOperator(admin, 'bs-op2'), await createOperator(admin, 'bs-op3')];
    const account = await admin.post('/api/v1/service-accounts', { name: 'bs-ci', roles: ['requester'] });
    automation = admin.as(account.body.token);
  });
  afterAll(() => gateway.close());

  it.each(['ES256', 'EdDSA'] as const)('generates a %s key: the answer gives only the public JWK, and a quorum-approved signature verifies with it', async (alg) => {
    const name = `bs-${alg.toLowerCase()}`;
    const created = await lead.post('/api/v1/credentials', { name, kind: 'signing-key', generate: { alg }, custodians: operators.map((o) => o.id), threshold: 2 });
    expect(created.status).toBe(201);
    const publicJwk = created.body.publicJwk;
    expect(publicJwk).toMatchObject({ kty: alg === 'ES256' ? 'EC' : 'OKP', x: expect.any(String), kid: expect.any(String) });
    expect(created.body).toMatchObject({ generated: true, publicInfo: { publicJwk, alg, generated: true }, threshold: 2 });
    expect(created.text).not.toMatch(/"d"/);
    expect((await lead.get(`/api/v1/credentials/${name}`)).body.publicJwk).toEqual(publicJwk);

    const policy = await lead.post('/api/v1/policies', { name: `${name}-signing`, credentialId: created.body.id, operations: [{ kind: 'sign' }], approvals: { min: 2 } });
    expect(policy.status).toBe(201);
    const payload = Buffer.from(`release signed by a born-split ${alg} key`).toString('base64url');
    const request = (await automation.post('/api/v1/requests', signRequestBody(name, payload))).body;

    // The private key as a quorum would rebuild it: what the database and the logs must not hold.
    const shares = [await ownShare(operators[0]!, request.id), await ownShare(operators[2]!, request.id)];
    const dataKey = combineShares(shares);
    const [row] = await gateway.ctx.dataSource.query('SELECT sealed_secret FROM credentials WHERE id = $1', [created.body.id]);
    const privateJwk = JSON.parse((await openSealedSecret(row.sealed_secret, dataKey, { cred: created.body.id, ver: 1, kind: 'signing-key', config: {} })).toString('utf8'));
    expect(privateJwk).toMatchObject({ x: publicJwk.x, d: expect.any(String) });

    expect((await approve(operators[0]!, request)).status).toBe(201);
    expect((await approve(operators[2]!, request)).status).toBe(201);
    const done = await automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=20`);
    expect(done.body).toMatchObject({ status: 'succeeded', result: { alg, kid: publicJwk.kid } });
    const key = await crypto.subtle.importKey('jwk', publicJwk, VERIFY[alg].import, false, ['verify']);
    expect(await crypto.subtle.verify(VERIFY[alg].verify, key, Buffer.from(done.body.result.signature, 'base64url'), Buffer.from(payload, 'base64url'))).toBe(true);

    const haystack = (await dumpAllTables(gateway.ctx.dataSource)) + '\n' + gateway.logs.join('\n') + '\n' + created.text;
    expect(haystack).toContain(publicJwk.x);
    expect(findLeaks(haystack, { 'private key d': privateJwk.d, 'private JWK': JSON.stringify(privateJwk), 'data key': dataKey, 'share 1': shares[0]!, 'share 3': shares[1]! })).toEqual([]);
    const audit = await gateway.ctx.dataSource.query(`SELECT data FROM audit_log WHERE action = 'credential.created' AND subject = $1`, [`credential:${created.body.id}`]);
    expect(audit[0].data).toMatchObject({ generated: true, publicJwk });
  });

  it('refuses generate for other kinds, an unknown algorithm, and generate together with a secret (400, problem+json)', async () => {
    const base = { custodians: operators.map((o) => o.id), threshold: 2 };
    const cases = [
      { name: 'bs-token', kind: 'http-token', config: { baseUrl: 'https://admin.internal' }, generate: { alg: 'ES256' }, ...base },
      { name: 'bs-rsa', kind: 'signing-key', generate: { alg: 'RS256' }, ...base },
      { name: 'bs-none', kind: 'signing-key', generate: {}, ...base },
      { name: 'bs-both', kind: 'signing-key', generate: { alg: 'ES256' }, secret: '{}', ...base },
      { name: 'bs-extra', kind: 'signing-key', generate: { alg: 'ES256', d: 'mine' }, ...base },
    ];
    for (const body of cases) {
      const res = await lead.post('/api/v1/credentials', body);
      expect([body.name, res.status]).toEqual([body.name, 400]);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
    const names = (await lead.get('/api/v1/credentials')).body.credentials.map((c: { name: string }) => c.name);
    expect(names.filter((n: string) => cases.some((c) => c.name === n))).toEqual([]);
  });
});
