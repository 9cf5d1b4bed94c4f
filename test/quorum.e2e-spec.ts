import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { compactVerify, importJWK } from 'jose';
import { makeTestPki } from './support/peers/tls.js';
import { combineShares } from '../libs/crypto/index.js';
import { signApprovalStatement } from '../libs/custodian/index.js';
import { Http } from './support/http.js';
import { dumpAllTables, findLeaks } from './support/leak-scan.js';
import { approve, createOperator, createUser, decisionBody, ownShare, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { ExecutionQueue } from '../apps/gateway/src/executions/execution-queue.js';
import { RequestEvents } from '../apps/gateway/src/requests/request-events.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

async function verifyRawSignature(publicJwk: any, payloadB64u: string, signatureB64u: string): Promise<boolean> {
  const key = await crypto.subtle.importKey('jwk', publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(signatureB64u, "base64url"), Buffer.from(payloadB64u, "base64url"));
}

describe.each(testDatabaseKinds())('the quorum core (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  const secrets: Record<string, Uint8Array | string> = {};

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    q = await setUpSigningQuorum(new Http(gateway.url));
    secrets['signing key d'] = q.signingKey.privateJwk.d ?? '';
    secrets['signing key JSON'] = JSON.stringify(q.signingKey.privateJwk);
  });
  afterAll(() => gateway.close());

  async function submit(body = signRequestBody(q.credential.name), headers: Record<string, string> = {}) {
    const res = await q.automation.post('/api/v1/requests', body, headers);
    expect(res.status).toBe(201);
    return res.body;
  }

  async function auditHead(): Promise<number> {
    const rows = await gateway.ctx.dataSource.query('SELECT seq FROM audit_head');
    return Number(rows[0].seq);
  }

  it('signs after two of three custodians approve, and the signature verifies with the credential public key', async () => {
    const payload = Buffer.from('artifact sha256:0123').toString('base64url');
    const request = await submit(signRequestBody(q.credential.name, payload));
    expect(request).toMatchObject({ status: 'pending', policyId: q.policy.id, approvals: { required: 2, received: 0 } });
    expect(request.digestInput).toMatchObject({ id: request.id, credential: { id: q.credential.id, version: 1 }, requester: expect.any(String) });

    const first = await approve(q.operators[0]!, request);
    expect(first.status).toBe(201);
    expect(first.body.request.status).toBe('pending');
    // Invariant 2: one approval short of the quorum, nothing is reconstructed or run.
    const pending = await q.automation.get(`/api/v1/requests/${request.id}`);
    expect(pending.body.status).toBe('pending');
    expect(pending.body).not.toHaveProperty('result');

    const second = await approve(q.operators[2]!, request);
    expect(second.status).toBe(201);
    const done = await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=20`);
    expect(done.body.status).toBe('succeeded');
    expect(done.body.result).toMatchObject({ alg: 'ES256', kid: q.credential.publicInfo.publicJwk.kid, signature: expect.any(String) });
    expect(await verifyRawSignature(q.credential.publicInfo.publicJwk, payload, done.body.result.signature)).toBe(true);
    expect(done.body.approvals.map((a: any) => a.userId).sort()).toEqual([q.operators[0]!.id, q.operators[2]!.id].sort());

    const metrics = await new Http(gateway.url).get('/metrics');
    expect(metrics.text).toMatch(/qg_executions_total\{kind="sign",status="succeeded"\} [1-9]/);

    // Invariant 8: the request key is gone once the request ended.
    const [row] = await gateway.ctx.dataSource.query('SELECT request_private_key_sealed FROM requests WHERE id = $1', [request.id]);
    expect(row.request_private_key_sealed).toBeNull();
  });

  it('calls an admin API over HTTPS with the reconstructed token (http), and keeps NUL bytes out of jsonb', async () => {
    const pki = makeTestPki();
    const token = 'admin-api-token-' + 'x'.repeat(24);
    const seen: string[] = [];
    const server = createHttpsServer({ key: pki.server.key, cert: pki.server.cert }, (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end('who are you?');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`rotated ${req.url}\u0000done`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const create = (name: string, secret: string) =>
        q.lead.post('/api/v1/credentials', { name, kind: 'http-token', config: { baseUrl: `https://127.0.0.1:${port}`, caCertificate: pki.ca }, secret, custodians: q.operators.map((o) => o.id), threshold: 2 });
      const good = await create('admin-api', token);
      expect(good.status).toBe(201);
      expect(good.body).not.toHaveProperty('secret');
      const bad = await create('admin-api-stale', 'an-old-revoked-token-000000');
      for (const [name, credentialId] of [['admin-api', good.body.id], ['admin-api-stale', bad.body.id]]) {
        const policy = await q.lead.post('/api/v1/policies', { name, credentialId, operations: [{ kind: 'http', constraints: { method: 'POST', path: '/admin/rotate/*' } }], approvals: { min: 2 } });
        expect(policy.status).toBe(201);
      }
      const refused = await q.automation.post('/api/v1/requests', { credential: 'admin-api', operation: { kind: 'http', params: { method: 'POST', path: '/admin/users/delete' } }, reason: 'outside the policy' });
      expect(refused.status).toBe(403);

      const run = async (credential: string) => {
        const request = (await q.automation.post('/api/v1/requests', { credential, operation: { kind: 'http', params: { method: 'POST', path: '/admin/rotate/db' } }, reason: 'rotate db password' })).body;
        await approve(q.operators[0]!, request);
        await approve(q.operators[1]!, request);
        return (await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=20`)).body;
      };
      const ok = await run('admin-api');
      expect(ok.status).toBe('succeeded');
      expect(ok.result).toMatchObject({ status: 200, body: 'rotated /admin/rotate/db\ufffddone' });
      const stale = await run('admin-api-stale');
      expect(stale.status).toBe('failed');
      expect(stale.result).toMatchObject({ status: 401 });
      expect(seen).toEqual(['POST /admin/rotate/db', 'POST /admin/rotate/db']);
      secrets['http token'] = token;
    } finally {
      server.close();
    }
  });

  it('returns a JWS when asked for format jws', async () => {
    const request = await submit({ ...signRequestBody(q.credential.name), operation: { kind: 'sign', params: { payload: Buffer.from('{"v":1}').toString('base64url'), format: 'jws' } } });
    await approve(q.operators[0]!, request);
    await approve(q.operators[1]!, request);
    const done = await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=20`);
    expect(done.body.status).toBe('succeeded');
    const verified = await compactVerify(done.body.result.jws, await importJWK(q.credential.publicInfo.publicJwk, 'ES256'));
    expect(Buffer.from(verified.payload).toString()).toBe('{"v":1}');
  });

  it('replays a request for the same Idempotency-Key and refuses a different body', async () => {
    const first = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name), { 'idempotency-key': 'job-42' });
    const again = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name), { 'idempotency-key': 'job-42' });
    expect(first.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    const other = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name, 'b3RoZXI'), { 'idempotency-key': 'job-42' });
    expect(other.status).toBe(409);
  });

  describe('refusals (each answers problem+json and changes nothing)', () => {
    let request: any;
    beforeAll(async () => {
      request = await submit();
    });

    async function expectRefused(call: () => Promise<{ status: number; headers: Headers }>, status: number) {
      const before = await auditHead();
      const approvalsBefore = (await q.admin.get(`/api/v1/requests/${request.id}`)).body.approvals;
      const res = await call();
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await auditHead()).toBe(before);
      expect((await q.admin.get(`/api/v1/requests/${request.id}`)).body.approvals).toEqual(approvalsBefore);
    }

    it('403: an operator who is not a custodian', async () => {
      const outsider = await createOperator(q.admin, 'outsider');
      await expectRefused(() => outsider.http.get(`/api/v1/requests/${request.id}/share`), 403);
      const body = await decisionBody(q.operators[0]!, request, 'reject');
      await expectRefused(() => outsider.http.post(`/api/v1/requests/${request.id}/approvals`, body), 403);
    });

    it('400: a statement over another digest (invariant 3)', async () => {
      const op = q.operators[1]!;
      const good = await decisionBody(op, request, 'approve');
      const statement = await signApprovalStatement(
        { req: request.id, digest: 'A'.repeat(43), decision: 'approve', sub: op.id, iat: Math.floor(Date.now() / 1000) },
        op.keys.signing.privateKey,
        op.signingKid,
      );
      await expectRefused(() => op.http.post(`/api/v1/requests/${request.id}/approvals`, { ...good, statement }), 400);
    });

    it('400: a statement for another request, signed by another key, stale, or saying reject', async () => {
      const op = q.operators[1]!;
      const good = await decisionBody(op, request, 'approve');
      const sign = (claims: object, signer = op) => signApprovalStatement({ req: request.id, digest: request.digest, decision: 'approve', sub: op.id, iat: Math.floor(Date.now() / 1000), ...claims } as any, signer.keys.signing.privateKey, signer.signingKid);
      await expectRefused(async () => op.http.post(`/api/v1/requests/${request.id}/approvals`, { ...good, statement: await sign({ req: '00000000-0000-4000-8000-000000000000' }) }), 400);
      await expectRefused(async () => op.http.post(`/api/v1/requests/${request.id}/approvals`, { ...good, statement: await sign({}, q.operators[0]!) }), 400);
      await expectRefused(async () => op.http.post(`/api/v1/requests/${request.id}/approvals`, { ...good, statement: await sign({ iat: Math.floor(Date.now() / 1000) - 301 }) }), 400);
      await expectRefused(async () => op.http.post(`/api/v1/requests/${request.id}/approvals`, { ...good, statement: await sign({ decision: 'reject' }) }), 400);
      await expectRefused(async () => op.http.post(`/api/v1/requests/${request.id}/approvals`, { ...good, statement: good.statement.slice(0, -4) + 'AAAA' }), 400);
    });

    it('400: a share sealed for another request, or not a JWE at all', async () => {
      const op = q.operators[1]!;
      const good = await decisionBody(op, request, 'approve');
      const otherRequest = await submit();
      const foreign = await decisionBody(op, otherRequest, 'approve');
      await expectRefused(() => op.http.post(`/api/v1/requests/${request.id}/approvals`, { ...good, share: foreign.share }), 400);
      await expectRefused(() => op.http.post(`/api/v1/requests/${request.id}/approvals`, { ...good, share: 'not.a.jwe.at.all' }), 400);
    });

    it('409: a custodian who already decided', async () => {
      const op = q.operators[1]!;
      expect((await approve(op, request)).status).toBe(201);
      const again = await decisionBody(op, request, 'approve').catch(() => undefined);
      // The share endpoint still works while pending; the second decision is refused.
      await expectRefused(async () => op.http.post(`/api/v1/requests/${request.id}/approvals`, again ?? { decision: 'reject', statement: 'x'.repeat(30) }), 409);
    });

    it('403: the requester approving their own request (invariant 5)', async () => {
      const both = await createOperator(q.admin, 'selfie', ['requester']);
      const lead = q.lead;
      const cred = await lead.post('/api/v1/credentials', { name: 'selfie-key', kind: 'signing-key', secret: JSON.stringify(q.signingKey.privateJwk), custodians: [both.id, q.operators[0]!.id], threshold: 1 });
      expect(cred.status).toBe(201);
      expect((await lead.post('/api/v1/policies', { name: 'selfie-policy', credentialId: cred.body.id, operations: [{ kind: 'sign' }], approvals: { min: 1 } })).status).toBe(201);
      const own = await both.http.post('/api/v1/requests', signRequestBody('selfie-key'));
      expect(own.status).toBe(201);
      const body = await decisionBody(both, own.body, 'approve');
      const res = await both.http.post(`/api/v1/requests/${own.body.id}/approvals`, body);
      expect(res.status).toBe(403);
      expect((await both.http.get(`/api/v1/requests/${own.body.id}`)).body.approvals).toEqual([]);
    });
  });

  it('any custodian reject vetoes; a rejected or cancelled request can never be approved (invariant 9)', async () => {
    const rejected = await submit();
    expect((await approve(q.operators[0]!, rejected, 'reject')).status).toBe(201);
    expect((await q.automation.get(`/api/v1/requests/${rejected.id}`)).body.status).toBe('rejected');
    expect((await q.operators[1]!.http.get(`/api/v1/requests/${rejected.id}/share`)).status).toBe(409);

    const cancelled = await submit();
    const body = await decisionBody(q.operators[1]!, cancelled, 'approve');
    expect((await q.automation.post(`/api/v1/requests/${cancelled.id}/cancel`)).body.status).toBe('cancelled');
    const late = await q.operators[1]!.http.post(`/api/v1/requests/${cancelled.id}/approvals`, body);
    expect(late.status).toBe(409);
    for (const id of [rejected.id, cancelled.id]) {
      const [row] = await gateway.ctx.dataSource.query('SELECT request_private_key_sealed FROM requests WHERE id = $1', [id]);
      expect(row.request_private_key_sealed).toBeNull();
    }
  });

  it('refuses a request no policy admits (403) and an unknown credential (404)', async () => {
    const wrongKind = await q.automation.post('/api/v1/requests', { credential: q.credential.name, operation: { kind: 'http', params: { method: 'GET', path: '/' } }, reason: 'try' });
    expect([400, 403]).toContain(wrongKind.status);
    const unknown = await q.automation.post('/api/v1/requests', signRequestBody('no-such-credential'));
    expect(unknown.status).toBe(404);
    const operatorOnly = await q.operators[0]!.http.post('/api/v1/requests', signRequestBody(q.credential.name));
    expect(operatorOnly.status).toBe(403);
  });

  it('rejects a cheating share at execution, names its submitter, and completes with an honest one (invariant 6)', async () => {
    const request = await submit();
    const [cheat, honest1, honest2] = q.operators as [any, any, any];
    // The cheater seals a corrupted share that still opens with the request key at the right index.
    const genuine = await decisionBody(cheat, request, 'approve');
    const share = Buffer.from(await ownShare(cheat, request.id));
    share[share.length - 1] ^= 0xff;
    const { sealShareToRequestKey } = await import('../libs/custodian/index.js');
    const index = (await cheat.http.get(`/api/v1/requests/${request.id}/share`)).body.index;
    const bad = { ...genuine, share: await sealShareToRequestKey(share, request.requestKey, { req: request.id, idx: index, digest: request.digest }) };
    expect((await cheat.http.post(`/api/v1/requests/${request.id}/approvals`, bad)).status).toBe(201);
    expect((await approve(honest1, request)).status).toBe(201);

    await waitFor(async () => (await q.automation.get(`/api/v1/requests/${request.id}`)).body.approvals.some((a: any) => a.valid === false));
    const reopened = await q.automation.get(`/api/v1/requests/${request.id}`);
    expect(reopened.body.status).toBe('pending');
    expect(reopened.body.approvals.find((a: any) => a.userId === cheat.id)).toMatchObject({ valid: false });
    const audit = (await q.admin.get('/api/v1/audit?limit=1000')).body.entries;
    expect(audit.find((e: any) => e.action === 'request.share_rejected' && e.subject === `request:${request.id}`)?.data.approverId).toBe(cheat.id);

    expect((await approve(honest2, request)).status).toBe(201);
    const done = await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=20`);
    expect(done.body.status).toBe('succeeded');
    expect(await verifyRawSignature(q.credential.publicInfo.publicJwk, signRequestBody('').operation.params.payload, done.body.result.signature)).toBe(true);
  });

  it('takes a share sealed to another key at approval (its header is right) and refuses it at execution, naming its submitter (ADR 0018)', async () => {
    const request = await submit();
    const [misdirected, honest1, honest2] = q.operators as [any, any, any];
    const genuine = await decisionBody(misdirected, request, 'approve');
    const { sealShareToRequestKey } = await import('../libs/custodian/index.js');
    const { generateRequestKeyPair } = await import('../libs/crypto/index.js');
    const index = (await misdirected.http.get(`/api/v1/requests/${request.id}/share`)).body.index;
    const elsewhere = await generateRequestKeyPair();
    const share = Buffer.from(await ownShare(misdirected, request.id));
    const bad = { ...genuine, share: await sealShareToRequestKey(share, elsewhere.publicJwk, { req: request.id, idx: index, digest: request.digest }) };
    // Not opened at approval: the header names this request, this index and this digest.
    expect((await misdirected.http.post(`/api/v1/requests/${request.id}/approvals`, bad)).status).toBe(201);
    expect((await approve(honest1, request)).status).toBe(201);

    await waitFor(async () => (await q.automation.get(`/api/v1/requests/${request.id}`)).body.approvals.some((a: any) => a.valid === false));
    const reopened = await q.automation.get(`/api/v1/requests/${request.id}`);
    expect(reopened.body.status).toBe('pending');
    expect(reopened.body.requestKey).toEqual(request.requestKey);
    const audit = (await q.admin.get('/api/v1/audit?limit=1000')).body.entries;
    expect(audit.find((e: any) => e.action === 'request.share_rejected' && e.subject === `request:${request.id}`)?.data).toEqual({ approverId: misdirected.id, reason: 'ENVELOPE_INVALID' });

    expect((await approve(honest2, request)).status).toBe(201);
    const done = await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=20`);
    expect(done.body.status).toBe('succeeded');
  });

  it('executes exactly once under 20 concurrent approval attempts (invariant 4)', async () => {
    const request = await submit();
    const bodies = await Promise.all(q.operators.map((op) => decisionBody(op, request, 'approve')));
    const attempts = Array.from({ length: 20 }, (_, i) => {
      const op = q.operators[i % q.operators.length]!;
      return op.http.post(`/api/v1/requests/${request.id}/approvals`, bodies[i % q.operators.length]);
    });
    const statuses = (await Promise.all(attempts)).map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(2);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const done = await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=20`);
    expect(done.body.status).toBe('succeeded');
    const executions = await gateway.ctx.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'request.executing' AND subject = $1`, [`request:${request.id}`]);
    expect(executions[0].n).toBe(1);
  });

  it('runs an approved request through its queued job when the approving process never starts it', async () => {
    // As if the process died right after committing the approval: only the job queued in that transaction is left.
    const queue = gateway.app.get(ExecutionQueue);
    const runSoon = queue.runSoon.bind(queue);
    queue.runSoon = () => undefined;
    try {
      const request = await submit();
      await approve(q.operators[0]!, request);
      const last = await approve(q.operators[1]!, request);
      expect(last.body.request.status).toBe('approved');
      expect((await q.automation.get(`/api/v1/requests/${request.id}`)).body.status).toBe('approved');
      const done = await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=30`);
      expect(done.body.status).toBe('succeeded');
      expect(await verifyRawSignature(q.credential.publicInfo.publicJwk, signRequestBody('').operation.params.payload, done.body.result.signature)).toBe(true);
      const executions = await gateway.ctx.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'request.executing' AND subject = $1`, [`request:${request.id}`]);
      expect(executions[0].n).toBe(1);
    } finally {
      queue.runSoon = runSoon;
    }
  }, 45000);

  it('announces each committed change once, with its status, to every subscriber', async () => {
    const announced: { id: string; status: string }[] = [];
    const unsubscribe = gateway.app.get(RequestEvents).subscribe((change) => announced.push({ id: change.id, status: change.status }));
    try {
      const request = await submit();
      await approve(q.operators[0]!, request);
      await approve(q.operators[1]!, request);
      expect((await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=20`)).body.status).toBe('succeeded');
      const deadline = Date.now() + 5000;
      while (announced.filter((c) => c.id === request.id).length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(announced.filter((c) => c.id === request.id).map((c) => c.status)).toEqual(['pending', 'pending', 'approved', 'executing', 'succeeded']);
    } finally {
      unsubscribe();
    }
  });

  it('fails the state change when the audit append fails (invariant 7)', async () => {
    const before = (await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM requests'))[0].n;
    const announced: string[] = [];
    const unsubscribe = gateway.app.get(RequestEvents).subscribe((change) => announced.push(change.status));
    await gateway.ctx.dataSource.query('ALTER TABLE audit_head RENAME TO audit_head_away');
    try {
      const res = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name));
      expect(res.status).toBe(500);
      // The change notification goes with the commit: a rolled-back submission announces nothing.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(announced).toEqual([]);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.text).not.toMatch(/audit_head/);
    } finally {
      unsubscribe();
      await gateway.ctx.dataSource.query('ALTER TABLE audit_head_away RENAME TO audit_head');
    }
    expect((await gateway.ctx.dataSource.query('SELECT count(*)::int AS n FROM requests'))[0].n).toBe(before);
  });

  it('verifies the audit chain, and names the seq of a row altered behind the trigger', async () => {
    const auditor = (await createUser(q.admin, 'auditor1', ['auditor'])).http;
    expect((await auditor.post('/api/v1/audit/checkpoints')).status).toBe(201);
    const ok = await auditor.get('/api/v1/audit/verify');
    expect(ok.body).toMatchObject({ ok: true, entries: expect.any(Number), headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await q.automation.get('/api/v1/audit')).status).toBe(403);
    expect((await auditor.get('/api/v1/audit/checkpoints')).body.checkpoints.length).toBeGreaterThan(0);

    await expect(gateway.ctx.dataSource.query(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3`)).rejects.toThrow(/append-only/);
    await gateway.ctx.dataSource.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete');
    try {
      await gateway.ctx.dataSource.query(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3`);
    } finally {
      await gateway.ctx.dataSource.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete');
    }
    const broken = await auditor.get('/api/v1/audit/verify');
    expect(broken.body).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it('leaves no secret, share or data key in any table or log line (invariant 1)', async () => {
    // The data key as a quorum would rebuild it: proof that the test knows what to look for.
    const request = await submit();
    const shares = [await ownShare(q.operators[0]!, request.id), await ownShare(q.operators[1]!, request.id)];
    secrets['data key'] = combineShares(shares);
    shares.forEach((s, i) => (secrets[`share ${i}`] = s));
    const haystack = (await dumpAllTables(gateway.ctx.dataSource)) + '\n' + gateway.logs.join('\n');
    expect(haystack).toContain(q.credential.id);
    expect(findLeaks(haystack, { ...secrets, serviceToken: q.serviceToken, masterKey: gateway.ctx.masterKey })).toEqual([]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

describe.each(testDatabaseKinds())('expiry (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  let offsetMs = 0;

  beforeAll(async () => {
    gateway = await startTestGateway(kind, {}, () => new Date(Date.now() + offsetMs));
    q = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'exp' });
  });
  afterAll(() => gateway.close());

  it('expires an overdue request, destroys its key, and refuses approvals after (invariant 9)', async () => {
    const request = (await q.automation.post('/api/v1/requests', { ...signRequestBody(q.credential.name), ttlSeconds: 120 })).body;
    const body = await decisionBody(q.operators[0]!, request, 'approve');
    offsetMs = 121_000;
    const { MaintenanceService } = await import('../apps/gateway/src/executions/maintenance.service.js');
    await gateway.app.get(MaintenanceService).sweep();
    const expired = await q.automation.get(`/api/v1/requests/${request.id}`);
    expect(expired.body.status).toBe('expired');
    const [row] = await gateway.ctx.dataSource.query('SELECT request_private_key_sealed FROM requests WHERE id = $1', [request.id]);
    expect(row.request_private_key_sealed).toBeNull();
    const late = await q.operators[0]!.http.post(`/api/v1/requests/${request.id}/approvals`, body);
    expect(late.status).toBe(409);
    const audit = await gateway.ctx.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'request.expired' AND subject = $1`, [`request:${request.id}`]);
    expect(audit[0].n).toBe(1);
  });

  it('refuses an approval that arrives after expiry even before the sweeper ran', async () => {
    offsetMs = 0;
    const request = (await q.automation.post('/api/v1/requests', { ...signRequestBody(q.credential.name), ttlSeconds: 60 })).body;
    await approve(q.operators[0]!, request);
    offsetMs = 61_000;
    // The operator's clock moved too: the statement is fresh, the request is not.
    const { prepareDecision } = await import('../libs/custodian/index.js');
    const op = q.operators[1]!;
    const share = (await op.http.get(`/api/v1/requests/${request.id}/share`)).body;
    const prepared = await prepareDecision({
      request: { ...request },
      shareEnvelope: share,
      decision: 'approve',
      userId: op.id,
      keys: { encryptionPrivateKey: op.keys.encryption.privateKey, signingPrivateKey: op.keys.signing.privateKey, signingKid: op.signingKid },
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    const res = await op.http.post(`/api/v1/requests/${request.id}/approvals`, { decision: 'approve', statement: prepared.statement, share: prepared.share });
    expect(res.status).toBe(409);
    expect((await q.automation.get(`/api/v1/requests/${request.id}`)).body.status).toBe('expired');
  });
});
