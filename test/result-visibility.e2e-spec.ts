import { createHash } from 'node:crypto';
import { canonicalJson } from '../libs/crypto/index.js';
import { Http } from './support/http.js';
import { approve, createUser, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

const sha256OfJcs = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex');

/** Spec §4 "Results": the operation's output goes to the requester only; everyone else who may see the request gets its hash and, on failure, the error. */
describe.each(testDatabaseKinds())('who sees a result (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  let auditor: Http;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    q = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'rv' });
    auditor = (await createUser(q.admin, 'rv-auditor', ['auditor'])).http;
  });
  afterAll(() => gateway.close());

  it('the requester gets the signature; custodians, admins, security leads and auditors get only its SHA-256, in every answer that carries the request', async () => {
    const submitted = (await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name))).body;
    expect((await approve(q.operators[0]!, submitted)).status).toBe(201);
    expect((await approve(q.operators[1]!, submitted)).status).toBe(201);
    const mine = await q.automation.get(`/api/v1/requests/${submitted.id}/wait?timeoutSeconds=30`);
    expect(mine.body.status).toBe('succeeded');
    expect(typeof mine.body.result.signature).toBe('string');
    expect(mine.body.resultSha256).toBeUndefined();
    const hash = sha256OfJcs(mine.body.result);

    for (const viewer of [q.operators[0]!.http, q.operators[2]!.http, q.admin, q.lead, auditor]) {
      const answers = [
        (await viewer.get(`/api/v1/requests/${submitted.id}`)).body,
        (await viewer.get(`/api/v1/requests/${submitted.id}/wait?timeoutSeconds=1`)).body,
        (await viewer.get('/api/v1/requests?status=succeeded')).body.requests.find((r: { id: string }) => r.id === submitted.id),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe('succeeded');
        expect(answer.resultSha256).toBe(hash);
        expect(answer.result).toBeUndefined();
        expect(JSON.stringify(answer)).not.toContain(mine.body.result.signature);
      }
    }
    const listed = (await q.automation.get('/api/v1/requests?status=succeeded')).body.requests.find((r: { id: string }) => r.id === submitted.id);
    expect(listed.result).toEqual(mine.body.result);
  });

  it('an outcome without output (cancelled) shows everyone the error; only the hash tells others it is the same one', async () => {
    const submitted = (await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name))).body;
    const cancelled = await q.automation.post(`/api/v1/requests/${submitted.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.result).toEqual({ error: 'cancelled' });
    const seenByCustodian = (await q.operators[0]!.http.get(`/api/v1/requests/${submitted.id}`)).body;
    expect(seenByCustodian.result).toEqual({ error: 'cancelled' });
    expect(seenByCustodian.resultSha256).toBe(sha256OfJcs({ error: 'cancelled' }));
  });
});
