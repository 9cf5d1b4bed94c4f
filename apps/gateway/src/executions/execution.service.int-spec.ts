import type { DataSource } from 'typeorm';
import type { RequestStatus } from '#libs/contracts';
import { Http } from '../../../../test/support/http.js';
import { approve, decisionBody, setUpSigningQuorum, signRequestBody, type Operator, type QuorumSetup } from '../../../../test/support/quorum.js';
import { testDatabaseKinds } from '../../../../test/support/test-databases.js';
import { startTestGateway, type TestGateway } from '../../../../test/support/test-gateway.js';
import { AuditWriter } from '../audit/audit-writer.js';
import { RequestLifecycle } from '../requests/request-lifecycle.js';
import { findRequestView, insertApproval, type RequestView } from '../requests/requests.repository.js';
import { EXECUTION_QUEUE } from './execution-queue.js';
import { ExecutionService } from './execution.service.js';

// The execution service on a real database with the real pg-boss queue, without HTTP in
// between. Each request here gets its first approval over HTTP and its last one in a
// transaction of the test's own, which records it and moves the request to `approved`
// as `decide()` does, but runs nothing after the commit: as if the approving replica
// had died right then. What runs it is then the test, or the queued fallback job.
describe.each(testDatabaseKinds())('executing approved requests (%s database)', (kind) => {
  let gateway: TestGateway;
  let db: DataSource;
  let q: QuorumSetup;
  let audit: AuditWriter;
  let lifecycle: RequestLifecycle;
  let executions: ExecutionService;
  let op1: Operator;
  let op2: Operator;
  let op3: Operator;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    db = gateway.ctx.dataSource;
    q = await setUpSigningQuorum(new Http(gateway.url), { n: 3, k: 2, prefix: 'ex' });
    [op1, op2, op3] = q.operators as [Operator, Operator, Operator];
    audit = gateway.app.get(AuditWriter);
    lifecycle = gateway.app.get(RequestLifecycle);
    executions = gateway.app.get(ExecutionService);
  }, 120000);
  afterAll(() => gateway.close());

  /** A request with op1's approval recorded over HTTP: one short of the policy's two. */
  async function halfApproved(): Promise<any> {
    const res = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name));
    expect(res.status).toBe(201);
    expect((await approve(op1, res.body)).status).toBe(201);
    return res.body;
  }

  /** Records `op`'s approval and moves the request to `approved` in one transaction; `then` runs in it before the commit. */
  async function approveLast(request: any, op: Operator, then: () => Promise<void> = async () => {}): Promise<void> {
    const body = await decisionBody(op, request, 'approve');
    await audit.transaction(async (tx) => {
      const view = await findRequestView(tx, request.id, true);
      if (view === undefined) throw new Error('no such request');
      const index = view.custodians.find((c) => c.userId === op.id)?.index ?? null;
      const recorded = await insertApproval(tx, { requestId: request.id, approverId: op.id, decision: 'approve', statement: body.statement, shareEnvelope: body.share ?? null, shareIndex: index, reason: null, voterGroups: [] });
      expect(recorded).toBeInstanceOf(Date);
      expect(await lifecycle.transition(tx, view.request, 'approved', { actor: `user:${op.id}`, data: { approverIds: [op1.id, op.id] } })).toBe(true);
      await then();
    });
  }

  /** This request's execution jobs, in any state. */
  async function jobs(requestId: string): Promise<{ state: string; requestId: string; deferred: boolean }[]> {
    return db.query(
      `SELECT state, data->>'requestId' AS "requestId", start_after > now() + interval '5 seconds' AS deferred FROM pgboss.job WHERE name = $1 AND id = $2
       UNION ALL SELECT state, data->>'requestId', false FROM pgboss.archive WHERE name = $1 AND id = $2`,
      [EXECUTION_QUEUE, requestId],
    );
  }

  async function stored(id: string): Promise<{ status: RequestStatus; key: string | null }> {
    const rows: { status: RequestStatus; key: string | null }[] = await db.query(`SELECT status, request_private_key_sealed AS key FROM requests WHERE id = $1`, [id]);
    if (rows[0] === undefined) throw new Error(`no request ${id}`);
    return rows[0];
  }

  async function auditActions(requestId: string): Promise<string[]> {
    const rows: { action: string }[] = await db.query(`SELECT action FROM audit_log WHERE subject = $1 ORDER BY seq`, [`request:${requestId}`]);
    return rows.map((r) => r.action);
  }

  const count = async (requestId: string, action: string) => (await auditActions(requestId)).filter((a) => a === action).length;

  async function waitForStatus(id: string, status: RequestStatus, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await stored(id)).status !== status) {
      if (Date.now() > deadline) throw new Error(`request ${id} is ${(await stored(id)).status}, not ${status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("queues the execution with the approving commit, deferred as the fallback, and the claim deletes the job", async () => {
    const request = await halfApproved();
    expect(await jobs(request.id)).toEqual([]);
    await approveLast(request, op2);
    expect(await jobs(request.id)).toEqual([{ state: 'created', requestId: request.id, deferred: true }]);

    await executions.execute(request.id);
    expect(await stored(request.id)).toEqual({ status: 'succeeded', key: null });
    expect(await jobs(request.id)).toEqual([]);
  });

  it('leaves no job when the approving transaction rolls back', async () => {
    const request = await halfApproved();
    await expect(
      approveLast(request, op2, async () => {
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await jobs(request.id)).toEqual([]);
    expect((await stored(request.id)).status).toBe('pending');

    // The same approval committed does leave one.
    await approveLast(request, op2);
    expect(await jobs(request.id)).toHaveLength(1);
    await executions.execute(request.id);
  });

  it('runs the operation once when two executions of the request race', async () => {
    const request = await halfApproved();
    await approveLast(request, op2);
    // On PostgreSQL the two claims truly overlap; on the embedded database (one connection) they queue for it.
    await Promise.all([executions.execute(request.id), executions.execute(request.id)]);
    expect(await count(request.id, 'request.executing')).toBe(1);
    expect(await count(request.id, 'request.succeeded')).toBe(1);
    expect(await stored(request.id)).toEqual({ status: 'succeeded', key: null });
  });

  it("runs nothing for a caller whose copy of the approved request is stale (the approving replica's own copy, after another claimed it)", async () => {
    const request = await halfApproved();
    await approveLast(request, op2);
    const approved = (await findRequestView(db, request.id)) as RequestView;
    expect(approved.request.status).toBe('approved');
    await executions.execute(request.id);
    await executions.execute(request.id, approved);
    expect(await count(request.id, 'request.executing')).toBe(1);
    expect(await count(request.id, 'request.succeeded')).toBe(1);
    expect(await stored(request.id)).toEqual({ status: 'succeeded', key: null });
  });

  it('the fallback job runs a request that no process ran after approving it', async () => {
    const request = await halfApproved();
    await approveLast(request, op2);
    // Nothing calls execute: the queue's worker takes the job once its delay (10 s) is over.
    await waitForStatus(request.id, 'succeeded', 25000);
    expect(await count(request.id, 'request.executing')).toBe(1);
    expect(await count(request.id, 'request.succeeded')).toBe(1);
    expect(await jobs(request.id)).toEqual([]);
  }, 40000);

  it('a share that does not open invalidates its approval, is audited, and sends the request back to pending with its key', async () => {
    const request = await halfApproved();
    await approveLast(request, op2);
    const keyBefore = (await stored(request.id)).key;
    expect(keyBefore).toEqual(expect.any(String));
    // Corrupt op2's share as stored: its ciphertext (fourth part of the compact JWE) no longer authenticates.
    const [{ envelope }]: { envelope: string }[] = await db.query(`SELECT share_envelope AS envelope FROM approvals WHERE request_id = $1 AND approver_id = $2`, [request.id, op2.id]);
    const parts = envelope.split('.');
    parts[3] = (parts[3]!.startsWith('A') ? 'B' : 'A') + parts[3]!.slice(1);
    await db.query(`UPDATE approvals SET share_envelope = $3 WHERE request_id = $1 AND approver_id = $2`, [request.id, op2.id, parts.join('.')]);

    await executions.execute(request.id);

    const after = await stored(request.id);
    expect({ status: after.status, keyKept: after.key === keyBefore }).toEqual({ status: 'pending', keyKept: true });
    const approvals: { approverId: string; valid: boolean; invalidReason: string | null }[] = await db.query(
      `SELECT approver_id AS "approverId", valid, invalid_reason AS "invalidReason" FROM approvals WHERE request_id = $1 ORDER BY created_at`,
      [request.id],
    );
    expect(approvals).toEqual([
      { approverId: op1.id, valid: true, invalidReason: null },
      { approverId: op2.id, valid: false, invalidReason: 'ENVELOPE_INVALID' },
    ]);
    const rejected: { data: Record<string, unknown> }[] = await db.query(`SELECT data FROM audit_log WHERE subject = $1 AND action = 'request.share_rejected'`, [`request:${request.id}`]);
    expect(rejected.map((r) => r.data)).toEqual([{ approverId: op2.id, reason: 'ENVELOPE_INVALID' }]);
    expect(await auditActions(request.id)).toEqual([
      'request.submitted',
      'request.approval_recorded',
      'request.approved',
      'request.executing',
      'request.share_rejected',
      'request.reopened',
    ]);

    // An honest custodian completes it; the kept key opens both good shares.
    expect((await approve(op3, request)).status).toBe(201);
    await waitForStatus(request.id, 'succeeded', 20000);
    expect((await stored(request.id)).key).toBeNull();
  });
});
