import { Http } from '../../../../test/support/http.js';
import { setUpSigningQuorum, signRequestBody, type QuorumSetup } from '../../../../test/support/quorum.js';
import { testDatabaseKinds } from '../../../../test/support/test-databases.js';
import { startTestGateway, type TestGateway } from '../../../../test/support/test-gateway.js';
import { AuditWriter } from '../audit/audit-writer.js';
import { NOTIFICATION_QUEUE } from '../notifications/notification-outbox.js';
import { RequestLifecycle } from './request-lifecycle.js';
import { findRequest } from './requests.repository.js';

// The lifecycle on a real database, without HTTP in between: guard, audit, outbox.
describe.each(testDatabaseKinds())('the request lifecycle (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  let lifecycle: RequestLifecycle;
  let audit: AuditWriter;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    q = await setUpSigningQuorum(new Http(gateway.url));
    // The outbox holds only what some channel wants (ChannelSubscriptions): this one wants every request event.
    const channel = await q.admin.post('/api/v1/notification-channels', { name: 'lifecycle-all', kind: 'webhook', config: { url: 'http://127.0.0.1:9/never-delivered' } });
    expect(channel.status).toBe(201);
    lifecycle = gateway.app.get(RequestLifecycle);
    audit = gateway.app.get(AuditWriter);
  });
  afterAll(() => gateway.close());

  async function submit(): Promise<string> {
    const res = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name));
    expect(res.status).toBe(201);
    return res.body.id;
  }

  /** Jobs of the notification outbox about this request, in any state, archived or not. */
  async function outboxJobs(requestId: string): Promise<string[]> {
    const rows: { status: string }[] = await gateway.ctx.dataSource.query(
      `SELECT data->>'status' AS status FROM pgboss.job WHERE name = $1 AND data->>'id' = $2
       UNION ALL SELECT data->>'status' FROM pgboss.archive WHERE name = $1 AND data->>'id' = $2`,
      [NOTIFICATION_QUEUE, requestId],
    );
    return rows.map((r) => r.status).sort();
  }

  async function auditActions(requestId: string): Promise<string[]> {
    const rows: { action: string }[] = await gateway.ctx.dataSource.query(`SELECT action FROM audit_log WHERE subject = $1 ORDER BY seq`, [`request:${requestId}`]);
    return rows.map((r) => r.action);
  }

  async function locked(requestId: string) {
    const request = await findRequest(gateway.ctx.dataSource, requestId);
    if (request === undefined) throw new Error('no such request');
    return request;
  }

  it('a submission enqueues exactly one outbox job', async () => {
    const id = await submit();
    expect(await outboxJobs(id)).toEqual(['pending']);
  });

  it('a transition enqueues exactly one job, and none when its transaction rolls back', async () => {
    const id = await submit();
    const request = await locked(id);
    await expect(
      audit.transaction(async (tx) => {
        expect(await lifecycle.transition(tx, request, 'cancelled', { actor: 'system' })).toBe(true);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await outboxJobs(id)).toEqual(['pending']);
    expect((await locked(id)).status).toBe('pending');
    expect(await auditActions(id)).toEqual(['request.submitted']);

    await audit.transaction((tx) => lifecycle.transition(tx, request, 'cancelled', { actor: 'system' }));
    expect(await outboxJobs(id)).toEqual(['cancelled', 'pending']);
    expect(await auditActions(id)).toEqual(['request.submitted', 'request.cancelled']);
    const after = await locked(id);
    expect(after.status).toBe('cancelled');
    // Entering a final status shreds the request key in the same statement.
    expect(after.requestPrivateKeySealed).toBeNull();
  });

  it('guards on the status the caller found: a stale caller moves nothing, audits nothing, enqueues nothing', async () => {
    const id = await submit();
    const stale = await locked(id);
    await audit.transaction((tx) => lifecycle.transition(tx, stale, 'cancelled', { actor: 'system' }));
    const moved = await audit.transaction((tx) => lifecycle.transition(tx, stale, 'expired', { actor: 'system' }));
    expect(moved).toBe(false);
    expect((await locked(id)).status).toBe('cancelled');
    expect(await auditActions(id)).toEqual(['request.submitted', 'request.cancelled']);
    expect(await outboxJobs(id)).toEqual(['cancelled', 'pending']);
  });

  it('refuses a move the transition table forbids, writing nothing', async () => {
    const id = await submit();
    const request = await locked(id);
    await expect(audit.transaction((tx) => lifecycle.transition(tx, request, 'succeeded', { actor: 'system' }))).rejects.toMatchObject({ code: 'TRANSITION_ILLEGAL' });
    expect((await locked(id)).status).toBe('pending');
    expect(await auditActions(id)).toEqual(['request.submitted']);
    expect(await outboxJobs(id)).toEqual(['pending']);
  });
});
