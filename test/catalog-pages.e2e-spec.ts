import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Http } from './support/http.js';
import { approve, createUser, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/** Issue 19 items 3 and 4: deleting a policy, the directory of names, and a DER signature openssl verifies. */
describe.each(testDatabaseKinds())('catalog pages: policy delete, directory, sign format der (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  const sql = (text: string, params: unknown[] = []) => gateway.ctx.dataSource.query(text, params);
  const auditCount = async (action: string) => Number((await sql('SELECT count(*)::int AS n FROM audit_log WHERE action = $1', [action]))[0].n);

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    q = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'cp' });
  });
  afterAll(() => gateway.close());

  async function newPolicy(name: string): Promise<string> {
    const res = await q.lead.post('/api/v1/policies', { name, credentialId: q.credential.id, operations: [{ kind: 'sign' }], approvals: { min: 2 } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  describe('DELETE /api/v1/policies/:id', () => {
    it('refuses with 409 IN_USE while a request under the policy is pending, changing nothing; deletes once it ended', async () => {
      const id = await newPolicy('cp-temporary');
      // The only sign policy a service account may use once cp-release-signing is out of its way: submit under cp-temporary.
      const submitted = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.id));
      expect(submitted.status).toBe(201);
      const under = submitted.body.policyId as string;
      const deletesBefore = await auditCount('policy.deleted');

      const refused = await q.lead.request('DELETE', `/api/v1/policies/${under}`);
      expect(refused.status).toBe(409);
      expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
      expect(refused.body).toMatchObject({ code: 'IN_USE', activeRequests: 1 });
      expect((await q.lead.get(`/api/v1/policies/${under}`)).status).toBe(200);
      expect(await auditCount('policy.deleted')).toBe(deletesBefore);

      const cancelled = await q.automation.post(`/api/v1/requests/${submitted.body.id}/cancel`);
      expect(cancelled.status).toBe(200);
      const deleted = await q.lead.request('DELETE', `/api/v1/policies/${under}`);
      expect(deleted.status).toBe(204);
      expect((await q.lead.get(`/api/v1/policies/${under}`)).status).toBe(404);
      expect((await q.lead.get('/api/v1/policies')).body.policies.map((p: { id: string }) => p.id)).not.toContain(under);
      expect(await auditCount('policy.deleted')).toBe(deletesBefore + 1);
      // the past request still reads, naming the deleted policy
      expect((await q.automation.get(`/api/v1/requests/${submitted.body.id}`)).body.policyId).toBe(under);
      // deleted twice: 404, nothing audited
      expect((await q.lead.request('DELETE', `/api/v1/policies/${under}`)).status).toBe(404);
      expect(await auditCount('policy.deleted')).toBe(deletesBefore + 1);

      // the other policy still serves; its deleted sibling's name can be taken again
      const remaining = under === id ? q.policy.id : id;
      const next = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.id));
      expect(next.status).toBe(201);
      expect(next.body.policyId).toBe(remaining);
      await q.automation.post(`/api/v1/requests/${next.body.id}/cancel`);
      const name = under === id ? 'cp-temporary' : 'cp-release-signing';
      const again = await q.lead.post('/api/v1/policies', { name, credentialId: q.credential.id, operations: [{ kind: 'sign' }], approvals: { min: 2 } });
      expect(again.status).toBe(201);
    });

    it('a deleted policy is never chosen for a new request', async () => {
      const id = await newPolicy('cp-solo');
      // Delete every other policy of the credential (but its custody policy, which cannot be deleted) so the new request can only match cp-solo, then delete it too.
      const others = (await q.lead.get('/api/v1/policies')).body.policies.filter((p: { id: string; credentialId: string; custody?: boolean }) => p.credentialId === q.credential.id && p.id !== id && p.custody !== true);
      for (const p of others) expect((await q.lead.request('DELETE', `/api/v1/policies/${p.id}`)).status).toBe(204);
      expect((await q.automation.post('/api/v1/requests', signRequestBody(q.credential.id))).status).toBe(201);
      const [pending] = await sql(`SELECT id FROM requests WHERE policy_id = $1 AND status = 'pending'`, [id]);
      await q.automation.post(`/api/v1/requests/${pending.id}/cancel`);
      expect((await q.lead.request('DELETE', `/api/v1/policies/${id}`)).status).toBe(204);
      const refused = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.id));
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('NO_MATCHING_POLICY');
      // restore a policy for the tests that follow
      await newPolicy('cp-after');
    });

    it('answers 404 to an unknown or malformed id and 403 to anyone but a security lead', async () => {
      expect((await q.lead.request('DELETE', '/api/v1/policies/00000000-0000-4000-8000-000000000000')).body.code).toBe('NOT_FOUND');
      expect((await q.lead.request('DELETE', '/api/v1/policies/not-a-uuid')).status).toBe(404);
      const id = await newPolicy('cp-guarded');
      const admin = await createUser(q.admin, 'cp-admin', ['admin']);
      for (const http of [admin.http, q.operators[0]!.http, q.automation]) expect((await http.request('DELETE', `/api/v1/policies/${id}`)).status).toBe(403);
      expect((await q.lead.get(`/api/v1/policies/${id}`)).status).toBe(200);
    });
  });

  describe('GET /api/v1/directory', () => {
    it('finds users and service accounts by part of their name, any case, for security leads, admins and auditors', async () => {
      const auditor = await createUser(q.admin, 'cp-auditor', ['auditor']);
      for (const http of [q.lead, q.admin, auditor.http]) {
        const res = await http.get('/api/v1/directory?q=CP-C');
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ entries: [{ kind: 'service_account', id: expect.any(String), name: 'cp-ci', roles: ['requester'], active: true }], nextCursor: null });
      }
      const users = await q.lead.get('/api/v1/directory?q=cp-op&kind=user');
      expect(users.body.entries.map((e: { username: string }) => e.username)).toEqual(['cp-op1', 'cp-op2', 'cp-op3']);
      expect(Object.keys(users.body.entries[0]).sort()).toEqual(['active', 'id', 'kind', 'name', 'roles', 'username']);
      expect((await q.lead.get('/api/v1/directory?q=cp-op&kind=service_account')).body.entries).toEqual([]);
    });

    it('pages with an opaque cursor, every entry once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { status: number; body: { entries: { id: string }[]; nextCursor: string | null } } = await q.lead.get(`/api/v1/directory?q=cp-&limit=2${cursor !== null ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.entries.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.entries.map((e) => e.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor !== null && pages < 50);
      const all = await q.lead.get('/api/v1/directory?q=cp-&limit=200');
      expect(seen).toEqual(all.body.entries.map((e: { id: string }) => e.id));
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBeGreaterThanOrEqual(6);
    });

    it('takes % and _ literally, and refuses bad input with a 400 problem', async () => {
      expect((await q.lead.get('/api/v1/directory?q=%25')).body.entries).toEqual([]);
      expect((await q.lead.get('/api/v1/directory?q=cp_op1')).body.entries).toEqual([]);
      for (const query of ['limit=0', 'limit=201', 'kind=robot', 'cursor=bm90LWEtY3Vyc29y', `q=${'x'.repeat(65)}`, 'cursor=%21%21']) {
        const res = await q.lead.get(`/api/v1/directory?${query}`);
        expect([query, res.status, res.body.code]).toEqual([query, 400, 'VALIDATION_FAILED']);
      }
    });

    it('is refused to operators, requesters and service accounts', async () => {
      const requester = await createUser(q.admin, 'cp-requester', ['requester']);
      for (const http of [q.operators[0]!.http, requester.http, q.automation]) expect((await http.get('/api/v1/directory')).status).toBe(403);
      expect((await new Http(gateway.url).get('/api/v1/directory')).status).toBe(401);
    });
  });

  it('sign with format der: the signature verifies with `openssl dgst -sha256 -verify` and the credential public key as PEM', async () => {
    const payload = Buffer.from('artifact sha256:cafe');
    const body = { credential: q.credential.id, operation: { kind: 'sign', params: { payload: payload.toString('base64url'), format: 'der' } }, reason: 'der for openssl (OPS-7)' };
    const submitted = await q.automation.post('/api/v1/requests', body);
    expect(submitted.status).toBe(201);
    expect(submitted.body.digestInput.operation.params.format).toBe('der');
    expect((await approve(q.operators[0]!, submitted.body)).status).toBe(201);
    expect((await approve(q.operators[1]!, submitted.body)).status).toBe(201);
    const done = await q.automation.get(`/api/v1/requests/${submitted.body.id}/wait?timeoutSeconds=20`);
    expect(done.body.status).toBe('succeeded');
    const signature = Buffer.from(done.body.result.signature as string, 'base64url');
    expect(signature[0]).toBe(0x30);
    const { kid: _kid, ...jwk } = q.credential.publicJwk;
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const dir = mkdtempSync(join(tmpdir(), 'qg-cp-'));
    try {
      writeFileSync(join(dir, 'key.pem'), pem);
      writeFileSync(join(dir, 'payload'), payload);
      writeFileSync(join(dir, 'payload.sig'), signature);
      const verify = () => execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir, 'key.pem'), '-signature', join(dir, 'payload.sig'), join(dir, 'payload')], { encoding: 'utf8', stdio: 'pipe' });
      expect(verify().trim()).toBe('Verified OK');
      writeFileSync(join(dir, 'payload'), 'artifact sha256:beef');
      expect(verify).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
