import { randomUUID } from 'node:crypto';
import { Http } from './support/http.js';
import { dumpAllTables, findLeaks } from './support/leak-scan.js';
import { approve, createOperator, createUser, generateSigningJwk, ownShare, signRequestBody, type Operator } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from './support/test-gateway.js';

/**
 * Grouped quorums (spec §3a, issue 17): {SRE 2 of 3, Security 1 of 1}. The data key is
 * XOR-split across the groups, then Shamir-split within each, so no policy, gateway bug
 * or database writer can rebuild it without the security custodian's share.
 */
describe.each(testDatabaseKinds())('grouped quorums (%s database)', (kind) => {
  let gateway: TestGateway;
  let admin: Http;
  let lead: Http;
  let automation: Http;
  let sre: Operator[];
  let security: Operator;
  let credential: any;
  let signingKey: Awaited<ReturnType<typeof generateSigningJwk>>;
  let counter = 0;

  const sql = (text: string, params: unknown[] = []) => gateway.ctx.dataSource.query(text, params);
  const payloadOf = (text: string) => Buffer.from(text).toString('base64url');
  const sharing = () => ({
    groups: [
      { name: 'sre', threshold: 2, custodians: sre.map((o) => o.id) },
      { name: 'security', threshold: 1, custodians: [security.id] },
    ],
  });

  async function createCredential(name: string) {
    const res = await lead.post('/api/v1/credentials', { name, kind: 'signing-key', secret: JSON.stringify(signingKey.privateJwk), sharing: sharing() });
    expect(res.status).toBe(201);
    return res.body;
  }
  async function createPolicy(credentialId: string, min: number) {
    const res = await lead.post('/api/v1/policies', { name: `grp-policy-${++counter}`, credentialId, operations: [{ kind: 'sign' }], approvals: { min } });
    expect(res.status).toBe(201);
    return res.body;
  }
  async function submit(credentialName: string, payload = payloadOf(`release ${++counter}`)) {
    const res = await automation.post('/api/v1/requests', signRequestBody(credentialName, payload));
    expect(res.status).toBe(201);
    return res.body;
  }
  const current = async (id: string) => (await automation.get(`/api/v1/requests/${id}`)).body;
  const waitFinal = async (id: string) => (await automation.get(`/api/v1/requests/${id}/wait?timeoutSeconds=20`)).body;
  async function auditActions(id: string): Promise<string[]> {
    const rows: { action: string }[] = await sql(`SELECT action FROM audit_log WHERE subject = $1 ORDER BY seq`, [`request:${id}`]);
    return rows.map((r) => r.action);
  }
  async function verifies(payloadB64u: string, signatureB64u: string): Promise<boolean> {
    const key = await crypto.subtle.importKey('jwk', signingKey.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(signatureB64u, 'base64url'), Buffer.from(payloadB64u, 'base64url'));
  }
  /** Lets an execution that should not happen have its chance to happen. */
  const settle = () => new Promise((r) => setTimeout(r, 600));

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    const anonymous = new Http(gateway.url);
    admin = await anonymous.login('admin', ADMIN_PASSWORD);
    lead = (await createUser(admin, 'grp-lead', ['security_lead'])).http;
    sre = [];
    for (let i = 1; i <= 3; i++) sre.push(await createOperator(admin, `grp-sre${i}`));
    security = await createOperator(admin, 'grp-sec');
    signingKey = await generateSigningJwk();
    const account = await admin.post('/api/v1/service-accounts', { name: 'grp-ci', roles: ['requester'] });
    automation = anonymous.as(account.body.token);
    credential = await createCredential('grp-release-key');
  });
  afterAll(() => gateway.close());

  it('the credential answer shows the groups; threshold is Σtⱼ; envelopes and commitments carry grp', async () => {
    expect(credential.threshold).toBe(3);
    expect(credential.sharing.groups).toEqual([
      { name: 'sre', threshold: 2, custodians: sre.map((o, i) => ({ userId: o.id, grp: 0, index: i + 1 })) },
      { name: 'security', threshold: 1, custodians: [{ userId: security.id, grp: 1, index: 1 }] },
    ]);
    expect(credential.custodians).toContainEqual({ userId: security.id, grp: 1, index: 1 });
    const again = await lead.get(`/api/v1/credentials/${credential.id}`);
    expect(again.body.sharing).toEqual(credential.sharing);
    const rows: { envelope: string; share_group: number }[] = await sql(`SELECT envelope, share_group FROM credential_shares WHERE credential_id = $1`, [credential.id]);
    for (const row of rows) {
      const header = JSON.parse(Buffer.from(row.envelope.split('.')[0]!, 'base64url').toString());
      expect(header.grp).toBe(row.share_group);
    }
  });

  it('health reports the margin per group and the least of them: one more security departure loses the credential, whatever the SREs', async () => {
    const health = (await lead.get(`/api/v1/credentials/${credential.id}/health`)).body;
    expect(health.groups.map((g: { name: string; threshold: number; live: number }) => [g.name, g.threshold, g.live])).toEqual([['sre', 2, 3], ['security', 1, 1]]);
    expect(health.margin).toBe(0);
  });

  it('a flat credential keeps today\'s formats: no grp anywhere, one group named custodians', async () => {
    const flat = await lead.post('/api/v1/credentials', { name: 'grp-flat-key', kind: 'signing-key', secret: JSON.stringify(signingKey.privateJwk), custodians: sre.map((o) => o.id), threshold: 2 });
    expect(flat.status).toBe(201);
    expect(flat.body.custodians).toEqual(sre.map((o, i) => ({ userId: o.id, index: i + 1 })));
    expect(flat.body.sharing.groups).toEqual([{ name: 'custodians', threshold: 2, custodians: sre.map((o, i) => ({ userId: o.id, grp: 0, index: i + 1 })) }]);
    const rows: { envelope: string; share_group: number | null }[] = await sql(`SELECT envelope, share_group FROM credential_shares WHERE credential_id = $1`, [flat.body.id]);
    for (const row of rows) {
      expect(row.share_group).toBeNull();
      expect(JSON.parse(Buffer.from(row.envelope.split('.')[0]!, 'base64url').toString())).not.toHaveProperty('grp');
    }
  });

  it('refuses bad structures with 400 problem+json', async () => {
    const base = { kind: 'signing-key', secret: JSON.stringify(signingKey.privateJwk) };
    const ids = (n: number) => Array.from({ length: n }, () => randomUUID());
    const cases: [string, unknown][] = [
      ['a user in two groups', { groups: [{ name: 'a', threshold: 1, custodians: [sre[0]!.id, sre[1]!.id] }, { name: 'b', threshold: 1, custodians: [sre[1]!.id] }] }],
      ['a threshold above its group', { groups: [{ name: 'a', threshold: 3, custodians: [sre[0]!.id, sre[1]!.id] }, { name: 'b', threshold: 1, custodians: [security.id] }] }],
      ['a threshold of 0', { groups: [{ name: 'a', threshold: 0, custodians: [sre[0]!.id] }, { name: 'b', threshold: 1, custodians: [security.id] }] }],
      ['two groups of one name', { groups: [{ name: 'a', threshold: 1, custodians: [sre[0]!.id] }, { name: 'a', threshold: 1, custodians: [security.id] }] }],
      ['17 groups', { groups: ids(17).map((id, i) => ({ name: `g${i}`, threshold: 1, custodians: [id] })) }],
      ['33 custodians in a group', { groups: [{ name: 'a', threshold: 1, custodians: ids(33) }, { name: 'b', threshold: 1, custodians: [security.id] }] }],
      ['an empty group', { groups: [{ name: 'a', threshold: 1, custodians: [] }, { name: 'b', threshold: 1, custodians: [security.id] }] }],
      ['no groups', { groups: [] }],
      ['an unknown member', { groups: [{ name: 'a', threshold: 1, custodians: [sre[0]!.id], extra: true }] }],
    ];
    for (const [what, body] of cases) {
      const res = await lead.post('/api/v1/credentials', { ...base, name: `grp-bad-${++counter}`, sharing: body });
      expect([what, res.status, res.headers.get('content-type')]).toEqual([what, 400, expect.stringContaining('application/problem+json')]);
    }
    const both = await lead.post('/api/v1/credentials', { ...base, name: 'grp-bad-both', sharing: sharing(), custodians: [sre[0]!.id], threshold: 1 });
    expect(both.status).toBe(400);
    const notEnrolled = await createUser(admin, 'grp-not-enrolled', ['operator']);
    const unenrolled = await lead.post('/api/v1/credentials', { ...base, name: 'grp-bad-unenrolled', sharing: { groups: [{ name: 'a', threshold: 1, custodians: [notEnrolled.id] }, { name: 'b', threshold: 1, custodians: [security.id] }] } });
    expect(unenrolled.status).toBeGreaterThanOrEqual(400);
    expect(unenrolled.status).toBeLessThan(500);
  });

  it('a policy whose min is below the sum of the group thresholds: 400', async () => {
    const res = await lead.post('/api/v1/policies', { name: 'grp-too-low', credentialId: credential.id, operations: [{ kind: 'sign' }], approvals: { min: 2 } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('three SRE approvals leave the request pending and nothing runs; the security custodian makes it succeed', async () => {
    await createPolicy(credential.id, 3);
    const payload = payloadOf('release v2.0.0');
    const request = await submit(credential.name, payload);
    for (const op of sre) expect((await approve(op, request)).status).toBe(201);
    await settle();
    const waiting = await current(request.id);
    expect(waiting.status).toBe('pending');
    expect(waiting.approvalsReceived).toBe(3);
    expect(waiting.sharingProgress).toEqual([
      { grp: 0, name: 'sre', threshold: 2, approved: 3, approvers: sre.map((o) => o.id), missing: [] },
      { grp: 1, name: 'security', threshold: 1, approved: 0, approvers: [], missing: [security.id] },
    ]);
    expect(await auditActions(request.id)).not.toContain('request.approved');

    const share = await security.http.get(`/api/v1/requests/${request.id}/share`);
    expect(share.body).toMatchObject({ index: 1, group: 1 });
    expect((await approve(security, request)).status).toBe(201);
    const done = await waitFinal(request.id);
    expect(done.status).toBe('succeeded');
    expect(await verifies(payload, done.result.signature)).toBe(true);

    // Invariant 1 with groups: neither the secret nor a share is anywhere in the database or the logs.
    const shares: Record<string, Uint8Array> = {};
    const another = await submit(credential.name);
    for (const op of [...sre, security]) shares[op.username] = await ownShare(op, another.id);
    const haystack = (await dumpAllTables(gateway.ctx.dataSource)) + '\n' + gateway.logs.join('\n');
    expect(findLeaks(haystack, { secret: JSON.stringify(signingKey.privateJwk), d: String(signingKey.privateJwk.d), ...shares })).toEqual([]);
  });

  it('a custodian\'s reject still vetoes', async () => {
    const request = await submit(credential.name);
    expect((await approve(security, request, 'reject')).status).toBe(201);
    expect((await current(request.id)).status).toBe('rejected');
  });

  it('a database writer who edits the policy to min 2: the SRE approvals still leave it pending, nothing runs', async () => {
    const cred = await createCredential(`grp-dbw-min-${++counter}`);
    const policy = await createPolicy(cred.id, 3);
    await sql(`UPDATE policies SET approvals = '{"min": 2}' WHERE id = $1`, [policy.id]);
    const request = await submit(cred.name);
    expect(request.approvals.required).toBe(2);
    for (const op of sre) expect((await approve(op, request)).status).toBe(201);
    await settle();
    expect((await current(request.id)).status).toBe('pending');
    expect(await auditActions(request.id)).not.toContain('request.approved');
  });

  it('a database writer who deletes the security group\'s envelope and shrinks the structure to the SRE group: the combine lacks a group, nothing runs', async () => {
    const cred = await createCredential(`grp-dbw-del-${++counter}`);
    const policy = await createPolicy(cred.id, 3);
    // The gateway now believes in one group, SRE 2 of 3, and a policy of 2.
    await sql(`DELETE FROM credential_shares WHERE credential_id = $1 AND share_group = 1`, [cred.id]);
    await sql(`UPDATE credentials SET sharing_groups = '[{"name": "sre", "threshold": 2}]', threshold = 2, share_count = 3 WHERE id = $1`, [cred.id]);
    await sql(`UPDATE policies SET approvals = '{"min": 2}' WHERE id = $1`, [policy.id]);
    const request = await submit(cred.name);
    expect((await approve(sre[0]!, request)).status).toBe(201);
    expect((await approve(sre[1]!, request)).status).toBe(201);
    const done = await waitFinal(request.id);
    expect(done.status).toBe('failed');
    expect(done.result).not.toHaveProperty('signature');
    expect(done.result.error).toMatch(/could not be reconstructed/);
  });

  it('a database writer who deletes the security custodian\'s share envelope from the request: back to pending, nothing runs', async () => {
    const cred = await createCredential(`grp-dbw-env-${++counter}`);
    await createPolicy(cred.id, 3);
    const request = await submit(cred.name);
    expect((await approve(security, request)).status).toBe(201);
    await sql(`UPDATE approvals SET share_envelope = NULL WHERE request_id = $1 AND approver_id = $2`, [request.id, security.id]);
    expect((await approve(sre[0]!, request)).status).toBe(201);
    expect((await approve(sre[1]!, request)).status).toBe(201);
    // Approved by the count, the execution finds the security share gone and sends it back.
    const deadline = Date.now() + 15000;
    let after = await current(request.id);
    while (Date.now() < deadline && !after.approvals.some((a: { valid: boolean }) => !a.valid)) {
      await new Promise((r) => setTimeout(r, 100));
      after = await current(request.id);
    }
    expect(after.status).toBe('pending');
    expect(after).not.toHaveProperty('result');
    expect(after.approvals.find((a: { userId: string }) => a.userId === security.id).valid).toBe(false);
    expect(await auditActions(request.id)).toContain('request.share_rejected');
  });
});
