import { compactDecrypt } from 'jose';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { computeRequestDigest, generateRequestKeyPair, type RequestDigestInput } from '../libs/crypto/index.js';
import { Http } from './support/http.js';
import { makeTestPki } from './support/peers/tls.js';
import { approve, createOperator, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/**
 * Spec §2 items 10–12 and 14, attacked the way the threat would: someone who can write
 * to the database (a DBA, a restored backup) but holds neither the master key nor any
 * custodian's private keys changes a column at the worst moment, with plain SQL. Each
 * test shows that nothing the custodians did not approve runs and that no secret goes
 * anywhere they did not approve.
 */
describe.each(testDatabaseKinds())('a database writer against the request path (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    // 2-of-3 custodians; policy min 2 unless a test makes its own.
    q = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'dbw' });
  });
  afterAll(() => gateway.close());

  const sql = (text: string, params: unknown[] = []) => gateway.ctx.dataSource.query(text, params);
  const payloadOf = (text: string) => Buffer.from(text).toString('base64url');

  async function submit(body: object = signRequestBody(q.credential.name, payloadOf('release v1.0.0'))) {
    const res = await q.automation.post('/api/v1/requests', body);
    expect(res.status).toBe(201);
    return res.body;
  }
  const current = async (id: string) => (await q.automation.get(`/api/v1/requests/${id}`)).body;
  const waitFinal = async (id: string) => (await q.automation.get(`/api/v1/requests/${id}/wait?timeoutSeconds=20`)).body;
  async function auditActions(id: string): Promise<string[]> {
    const rows: { action: string }[] = await sql(`SELECT action FROM audit_log WHERE subject = $1 ORDER BY seq`, [`request:${id}`]);
    return rows.map((r) => r.action);
  }
  async function waitFor(check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('condition not met in time');
  }
  async function verifies(payloadB64u: string, signatureB64u: string): Promise<boolean> {
    const key = await crypto.subtle.importKey('jwk', q.credential.publicInfo.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(signatureB64u, 'base64url'), Buffer.from(payloadB64u, 'base64url'));
  }

  it('an operation column rewritten after the first approval: the last honest approval runs what was signed, not the rewrite', async () => {
    const request = await submit();
    expect((await approve(q.operators[0]!, request)).status).toBe(201);
    const evil = payloadOf('evil v6.6.6');
    await sql(`UPDATE requests SET operation = jsonb_set(operation, '{params,payload}', to_jsonb($2::text)) WHERE id = $1`, [request.id, evil]);
    expect((await approve(q.operators[1]!, request)).status).toBe(201);
    const done = await waitFinal(request.id);
    expect(done.status).toBe('succeeded');
    expect(await verifies(request.digestInput.operation.params.payload, done.result.signature)).toBe(true);
    expect(await verifies(evil, done.result.signature)).toBe(false);
  });

  it('a digest input rewritten (digest recomputed) between approvals: the earlier share no longer matches, nothing runs', async () => {
    const request = await submit();
    expect((await approve(q.operators[0]!, request)).status).toBe(201);
    const evil: RequestDigestInput = { ...request.digestInput, operation: { kind: 'sign', params: { payload: payloadOf('evil v6.6.6'), format: 'raw' } } };
    await sql(`UPDATE requests SET digest_input = $2, operation = $3, digest = $4 WHERE id = $1`, [request.id, evil, evil.operation, computeRequestDigest(evil)]);
    // The second custodian approves in good faith what the gateway now shows.
    const shown = await current(request.id);
    expect(shown.digestInput.operation.params.payload).toBe(evil.operation.params['payload']);
    expect((await approve(q.operators[1]!, shown)).status).toBe(201);
    await waitFor(async () => (await current(request.id)).approvals.some((a: { valid: boolean }) => !a.valid));
    const after = await current(request.id);
    expect(after.status).toBe('pending');
    expect(after).not.toHaveProperty('result');
    expect(after.approvals.find((a: { userId: string }) => a.userId === q.operators[0]!.id)).toMatchObject({ valid: false, invalidReason: 'ENVELOPE_HEADER_MISMATCH' });
    expect(await auditActions(request.id)).not.toContain('request.succeeded');
  });

  it('a live policy loosened after submission (min 3 → 2) does not approve a request admitted under min 3', async () => {
    const policy = await q.lead.post('/api/v1/policies', { name: 'dbw-a-three-of-three', credentialId: q.credential.id, operations: [{ kind: 'sign', constraints: { format: 'jws' } }], approvals: { min: 3 } });
    expect(policy.status).toBe(201);
    const request = await submit({ credential: q.credential.name, operation: { kind: 'sign', params: { payload: payloadOf('{"v":3}'), format: 'jws' } }, reason: 'needs all three' });
    expect(request.policyId).toBe(policy.body.id);
    await sql(`UPDATE policies SET approvals = '{"min": 2}' WHERE id = $1`, [policy.body.id]);
    expect((await approve(q.operators[0]!, request)).status).toBe(201);
    const second = await approve(q.operators[1]!, request);
    expect(second.status).toBe(201);
    expect(second.body.request.status).toBe('pending');
    expect((await current(request.id)).status).toBe('pending');
  });

  it('a policy snapshot loosened in the database approves early, but the execution refuses it: nothing runs', async () => {
    const policy = await q.lead.post('/api/v1/policies', { name: 'dbw-a-snapshot', credentialId: q.credential.id, operations: [{ kind: 'sign', constraints: { payload: payloadOf('snapshot') } }], approvals: { min: 3 } });
    expect(policy.status).toBe(201);
    const request = await submit({ credential: q.credential.name, operation: { kind: 'sign', params: { payload: payloadOf('snapshot'), format: 'raw' } }, reason: 'snapshot' });
    expect(request.policyId).toBe(policy.body.id);
    await sql(`UPDATE requests SET policy_snapshot = jsonb_set(policy_snapshot, '{approvals,min}', '2') WHERE id = $1`, [request.id]);
    expect((await approve(q.operators[0]!, request)).status).toBe(201);
    expect((await approve(q.operators[1]!, request)).status).toBe(201);
    const done = await waitFinal(request.id);
    expect(done.status).toBe('failed');
    expect(done.result).toMatchObject({ code: 'REQUEST_ALTERED' });
    expect(done.result).not.toHaveProperty('signature');
  });

  it('a copy of one approval filed under another custodian, and the status forced to approved, counts nothing', async () => {
    const request = await submit();
    expect((await approve(q.operators[0]!, request)).status).toBe(201);
    // A copy of the first custodian's approval, filed under the second custodian.
    await sql(
      `INSERT INTO approvals (request_id, approver_id, decision, statement, share_envelope, share_index)
       SELECT request_id, $2, decision, statement, share_envelope, share_index FROM approvals WHERE request_id = $1 AND approver_id = $3`,
      [request.id, q.operators[1]!.id, q.operators[0]!.id],
    );
    await sql(`UPDATE requests SET status = 'approved' WHERE id = $1`, [request.id]);
    const { ExecutionService } = await import('../apps/gateway/src/executions/execution.service.js');
    await gateway.app.get(ExecutionService).execute(request.id);
    const after = await current(request.id);
    expect(after.status).toBe('pending');
    expect(after.approvals.find((a: { userId: string }) => a.userId === q.operators[1]!.id)).toMatchObject({ valid: false });
    expect(await auditActions(request.id)).not.toContain('request.succeeded');
  });

  it('a requester column rewritten on a reveal: the secret is sealed to the requester the custodians approved, never to the new one', async () => {
    const requester = await createOperator(q.admin, 'dbw-revealer', ['requester']);
    const mallory = await createOperator(q.admin, 'dbw-mallory', ['requester']);
    const policy = await q.lead.post('/api/v1/policies', { name: 'dbw-a-reveal', credentialId: q.credential.id, operations: [{ kind: 'reveal' }], approvals: { min: 2 }, requesters: { users: [requester.id, mallory.id] } });
    expect(policy.status).toBe(201);
    const submitted = await requester.http.post('/api/v1/requests', { credential: q.credential.name, operation: { kind: 'reveal', params: {} }, reason: 'break glass: INC-1' });
    expect(submitted.status).toBe(201);
    const request = submitted.body;
    expect((await approve(q.operators[0]!, request)).status).toBe(201);
    await sql(`UPDATE requests SET requester_id = $2 WHERE id = $1`, [request.id, mallory.id]);
    expect((await approve(q.operators[1]!, request)).status).toBe(201);
    await waitFor(async () => ['succeeded', 'failed'].includes((await q.admin.get(`/api/v1/requests/${request.id}`)).body.status));
    const rows: { result: { envelope?: string } }[] = await sql(`SELECT result FROM requests WHERE id = $1`, [request.id]);
    const envelope = rows[0]?.result.envelope;
    expect(envelope).toEqual(expect.any(String));
    await expect(compactDecrypt(envelope ?? '', mallory.keys.encryption.privateKey)).rejects.toThrow();
    const opened = await compactDecrypt(envelope ?? '', requester.keys.encryption.privateKey);
    expect(JSON.parse(Buffer.from(opened.plaintext).toString('utf8'))).toEqual(q.signingKey.privateJwk);
  });

  it('never hands out a request key the writer chose: the key answered is derived from the sealed private key', async () => {
    const request = await submit();
    const attacker = await generateRequestKeyPair();
    // Where a column for the public key exists, the writer swaps it; where none does, there is nothing to swap.
    const columns: { column_name: string }[] = await sql(`SELECT column_name FROM information_schema.columns WHERE table_name = 'requests' AND column_name = 'request_key'`);
    if (columns.length > 0) await sql(`UPDATE requests SET request_key = $2 WHERE id = $1`, [request.id, attacker.publicJwk]);
    const shown = await current(request.id);
    expect(shown.requestKey).toEqual(request.requestKey);
    expect(shown.requestKey.kid).not.toBe(attacker.publicJwk.kid);

    // Another request's sealed private key does not open for this one: no key is handed out at all.
    const other = await submit();
    await sql(`UPDATE requests SET request_private_key_sealed = (SELECT request_private_key_sealed FROM requests WHERE id = $2) WHERE id = $1`, [request.id, other.id]);
    const swapped = await q.operators[0]!.http.get(`/api/v1/requests/${request.id}`);
    expect(swapped.body.requestKey ?? null).not.toEqual(other.requestKey);
  });

  it('a credential kind rewritten: the sealed secret, bound to its kind, does not open; nothing runs', async () => {
    const request = await submit();
    await sql(`UPDATE credentials SET kind = 'http-token' WHERE id = $1`, [q.credential.id]);
    try {
      expect((await approve(q.operators[0]!, request)).status).toBe(201);
      expect((await approve(q.operators[1]!, request)).status).toBe(201);
      const done = await waitFinal(request.id);
      expect(done.status).toBe('failed');
      expect(done.result).toMatchObject({ code: 'SECRET_BINDING_MISMATCH' });
    } finally {
      await sql(`UPDATE credentials SET kind = 'signing-key' WHERE id = $1`, [q.credential.id]);
    }
  });

  describe('an http-token credential', () => {
    const pki = makeTestPki();
    const token = 'upstream-token-' + 'y'.repeat(24);
    const servers: Server[] = [];
    const received: { upstream: string[]; attacker: string[] } = { upstream: [], attacker: [] };
    let upstreamUrl = '';
    let attackerUrl = '';
    let duringRun: { key: string | null; envelopes: number }[] = [];

    async function listen(record: string[], onRequest?: () => Promise<void>): Promise<string> {
      const server = createHttpsServer({ key: pki.server.key, cert: pki.server.cert }, (req, res) => {
        record.push(String(req.headers.authorization));
        void (onRequest?.() ?? Promise.resolve()).then(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    beforeAll(async () => {
      upstreamUrl = await listen(received.upstream, async () => {
        // While the operation runs: what is left in the database of the request key and the shares?
        const rows: { key: string | null; envelopes: string }[] = await sql(
          `SELECT r.request_private_key_sealed AS key, (SELECT count(*) FROM approvals a WHERE a.request_id = r.id AND a.share_envelope IS NOT NULL) AS envelopes
             FROM requests r WHERE r.status = 'executing'`,
        );
        duringRun = rows.map((r) => ({ key: r.key, envelopes: Number(r.envelopes) }));
      });
      attackerUrl = await listen(received.attacker);
    });
    afterAll(() => servers.forEach((s) => s.close()));

    async function httpCredential(name: string) {
      const credential = await q.lead.post('/api/v1/credentials', { name, kind: 'http-token', config: { baseUrl: upstreamUrl, caCertificate: pki.ca }, secret: token, custodians: q.operators.map((o) => o.id), threshold: 2 });
      expect(credential.status).toBe(201);
      const policy = await q.lead.post('/api/v1/policies', { name, credentialId: credential.body.id, operations: [{ kind: 'http' }], approvals: { min: 2 } });
      expect(policy.status).toBe(201);
      return credential.body;
    }
    const callRequest = (credential: string) => submit({ credential, operation: { kind: 'http', params: { method: 'POST', path: '/rotate' } }, reason: 'rotate' });

    it('a baseUrl rewritten to another host: the token never leaves for it', async () => {
      const credential = await httpCredential('dbw-admin-api');
      const request = await callRequest(credential.name);
      await sql(`UPDATE credentials SET config = jsonb_set(config, '{baseUrl}', to_jsonb($2::text)) WHERE id = $1`, [credential.id, attackerUrl]);
      expect((await approve(q.operators[0]!, request)).status).toBe(201);
      expect((await approve(q.operators[1]!, request)).status).toBe(201);
      const done = await waitFinal(request.id);
      expect(done.status).toBe('failed');
      expect(done.result).toMatchObject({ code: 'SECRET_BINDING_MISMATCH' });
      expect(received.attacker).toEqual([]);
    });

    it('the request key and the share envelopes are destroyed before the operation runs', async () => {
      const credential = await httpCredential('dbw-shred');
      const request = await callRequest(credential.name);
      expect((await approve(q.operators[0]!, request)).status).toBe(201);
      expect((await approve(q.operators[1]!, request)).status).toBe(201);
      const done = await waitFinal(request.id);
      expect(done.status).toBe('succeeded');
      expect(received.upstream).toContain(`Bearer ${token}`);
      expect(duringRun).toEqual([{ key: null, envelopes: 0 }]);
      expect(await auditActions(request.id)).toEqual([
        'request.submitted',
        'request.approval_recorded',
        'request.approval_recorded',
        'request.approved',
        'request.executing',
        'request.key_destroyed',
        'request.succeeded',
      ]);
    });
  });
});
