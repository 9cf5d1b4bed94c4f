import { Http } from './support/http.js';
import { createOperator, createUser, generateSigningJwk, setUpSigningQuorum, type Operator, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/** Issue 15 item 3: credentials and policies in full only to admins, security leads and auditors; others see what concerns them. */
describe.each(testDatabaseKinds())('who sees which credentials and policies (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  let outsider: Operator;
  let hidden: { credential: { id: string; name: string }; policy: { id: string } };

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    q = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'cv' });
    outsider = await createOperator(q.admin, 'cv-outsider');
    const credential = await q.lead.post('/api/v1/credentials', {
      name: 'cv-hidden-key', kind: 'signing-key', secret: JSON.stringify((await generateSigningJwk()).privateJwk), custodians: [outsider.id], threshold: 1,
    });
    expect(credential.status).toBe(201);
    const policy = await q.lead.post('/api/v1/policies', {
      name: 'cv-hidden-policy', credentialId: credential.body.id, operations: [{ kind: 'sign' }], approvals: { min: 1 }, requesters: { users: [outsider.id] },
    });
    expect(policy.status).toBe(201);
    hidden = { credential: credential.body, policy: policy.body };
  });
  afterAll(() => gateway.close());

  // Each credential's custody policy (spec §4a) is named after the credential's id: shown as `custody:<credential name>`.
  const names = async (http: Http, what: 'credentials' | 'policies') => {
    const items: { name: string; custody?: boolean; credentialId?: string }[] = (await http.get(`/api/v1/${what}`)).body[what];
    const credentialName = (id: string | undefined) => (id === q.credential.id ? q.credential.name : id === hidden.credential.id ? hidden.credential.name : id);
    return items.map((x) => (x.custody === true ? `custody:${credentialName(x.credentialId) ?? ''}` : x.name)).sort();
  };

  it('admins, security leads and auditors see all of them', async () => {
    const auditor = (await createUser(q.admin, 'cv-auditor', ['auditor'])).http;
    for (const http of [q.admin, q.lead, auditor]) {
      expect(await names(http, 'credentials')).toEqual(['cv-hidden-key', 'cv-release-key']);
      expect(await names(http, 'policies')).toEqual(['custody:cv-hidden-key', 'custody:cv-release-key', 'cv-hidden-policy', 'cv-release-signing']);
      expect((await http.get(`/api/v1/credentials/${hidden.credential.id}`)).status).toBe(200);
    }
  });

  it('an operator sees the credentials they hold a share of and their policies; the others answer 404 as if they did not exist', async () => {
    const op = q.operators[0]!.http;
    expect(await names(op, 'credentials')).toEqual(['cv-release-key']);
    expect(await names(op, 'policies')).toEqual(['custody:cv-release-key', 'cv-release-signing']);
    for (const path of [`/api/v1/credentials/${hidden.credential.id}`, `/api/v1/credentials/${hidden.credential.name}`, `/api/v1/policies/${hidden.policy.id}`]) {
      const res = await op.get(path);
      expect(res.status).toBe(404);
      expect((await op.get(path.replace(/[^/]+$/, '00000000-0000-4000-8000-000000000000'))).body.title).toBe(res.body.title);
    }
    expect(await names(outsider.http, 'credentials')).toEqual(['cv-hidden-key']);
  });

  it('a requester sees what a policy lets them use, and a person with no role sees nothing', async () => {
    expect(await names(q.automation, 'credentials')).toEqual(['cv-release-key']);
    expect(await names(q.automation, 'policies')).toEqual(['cv-release-signing']);
    expect((await q.automation.get(`/api/v1/policies/${hidden.policy.id}`)).status).toBe(404);
    const nobody = (await createUser(q.admin, 'cv-nobody', [])).http;
    expect(await names(nobody, 'credentials')).toEqual([]);
    expect(await names(nobody, 'policies')).toEqual([]);
  });
});
