import type { DataSource } from 'typeorm';
import { FINAL_REQUEST_STATUSES, type RequestStatus } from '#libs/contracts';
import { Http } from '../../../../test/support/http.js';
import { approve, createOperator, createUser, decisionBody, setUpSigningQuorum, signRequestBody, type Operator, type QuorumSetup } from '../../../../test/support/quorum.js';
import { testDatabaseKinds } from '../../../../test/support/test-databases.js';
import { startTestGateway, type TestGateway } from '../../../../test/support/test-gateway.js';
import { AuditWriter } from '../audit/audit-writer.js';
import type { Principal } from '../auth/principal.js';
import { MaintenanceService } from '../executions/maintenance.service.js';
import { findUserByUsername, listServiceAccounts, serviceAccountPrincipal, userPrincipal } from '../users/accounts.repository.js';
import { canSee } from './request-access.js';
import { RequestReader } from './request-reader.js';
import { RequestsService } from './requests.service.js';
import { findRequestView, findRequestViews, insertApproval, listRequests } from './requests.repository.js';

const LIMIT = 1000;

// The request repository on a real database: people, credentials and requests are set
// up over HTTP, then the repository and services are called directly. Who sees which
// request, what a custodian may still decide, the key's end, and the lock a decision takes.
describe.each(testDatabaseKinds())('the request repository (%s database)', (kind) => {
  let gateway: TestGateway;
  let db: DataSource;
  let q: QuorumSetup;
  let requests: RequestsService;
  let audit: AuditWriter;
  /** Operator and requester; custodian of credential B only. */
  let op4: Operator;
  /** Operator and requester; holds a share of credential A's version 2 only, as after a reshare: A's version-1 requests are not theirs. */
  let op5: Operator;
  /** A person with the role requester only. */
  let human: Http;
  const principals: Record<string, Principal> = {};
  const A = 'rr-release-key';
  const B = 'rr-deploy-key';

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    db = gateway.ctx.dataSource;
    requests = gateway.app.get(RequestsService);
    audit = gateway.app.get(AuditWriter);
    q = await setUpSigningQuorum(new Http(gateway.url), { n: 3, k: 2, prefix: 'rr' });
    op4 = await createOperator(q.admin, 'rr-op4', ['requester']);
    op5 = await createOperator(q.admin, 'rr-op5', ['requester']);
    human = (await createUser(q.admin, 'rr-req', ['requester'])).http;
    await createUser(q.admin, 'rr-auditor', ['auditor']);
    await createUser(q.admin, 'rr-outsider', ['operator']);
    const op3 = q.operators[2]!;
    const credential = await q.lead.post('/api/v1/credentials', {
      name: B,
      kind: 'signing-key',
      secret: JSON.stringify(q.signingKey.privateJwk),
      custodians: [op3.id, op4.id],
      threshold: 2,
    });
    expect(credential.status).toBe(201);
    const policy = await q.lead.post('/api/v1/policies', { name: 'rr-deploy-signing', credentialId: credential.body.id, operations: [{ kind: 'sign' }], approvals: { min: 2 } });
    expect(policy.status).toBe(201);
    // No endpoint makes a new version of a credential yet: op5's share of version 2 is written directly.
    await db.query(`INSERT INTO credential_shares (credential_id, version, share_index, custodian_id, envelope, commitment) VALUES ($1, 2, 1, $2, 'unused', repeat('0', 64))`, [
      q.credential.id,
      op5.id,
    ]);
    for (const username of ['admin', 'rr-lead', 'rr-auditor', 'rr-op1', 'rr-op2', 'rr-op3', 'rr-op4', 'rr-op5', 'rr-req', 'rr-outsider']) {
      const principal = userPrincipal(await findUserByUsername(db, username));
      if (principal === null) throw new Error(`no user ${username}`);
      principals[username] = principal;
    }
    const ci = serviceAccountPrincipal((await listServiceAccounts(db)).find((a) => a.name === 'rr-ci'));
    if (ci === null) throw new Error('no service account rr-ci');
    principals['rr-ci'] = ci;
  }, 120000);
  afterAll(() => gateway.close());

  const principal = (name: string): Principal => {
    const found = principals[name];
    if (found === undefined) throw new Error(`no principal ${name}`);
    return found;
  };

  async function submit(as: Http, credential: string): Promise<any> {
    const res = await as.post('/api/v1/requests', signRequestBody(credential));
    expect(res.status).toBe(201);
    return res.body;
  }

  async function stored(id: string): Promise<{ status: RequestStatus; key: string | null }> {
    const rows: { status: RequestStatus; key: string | null }[] = await db.query(`SELECT status, request_private_key_sealed AS key FROM requests WHERE id = $1`, [id]);
    if (rows[0] === undefined) throw new Error(`no request ${id}`);
    return rows[0];
  }

  async function waitForStatus(id: string, status: RequestStatus): Promise<void> {
    const deadline = Date.now() + 20000;
    while ((await stored(id)).status !== status) {
      if (Date.now() > deadline) throw new Error(`request ${id} is ${(await stored(id)).status}, not ${status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The labels of the fixture's requests among `ids`, sorted. */
  function labelsOf(fixture: Record<string, { id: string }>, ids: string[]): string[] {
    return Object.entries(fixture)
      .filter(([, request]) => ids.includes(request.id))
      .map(([label]) => label)
      .sort();
  }

  describe('visibility', () => {
    it('lists for every principal exactly the requests canSee lets them see', async () => {
      const fixture = {
        'A by ci': await submit(q.automation, A),
        'A by req': await submit(human, A),
        'A by op4': await submit(op4.http, A),
        'A by op5': await submit(op5.http, A),
        'B by ci': await submit(q.automation, B),
        'B by req': await submit(human, B),
      };
      // Whom a request is visible to does not depend on its status.
      await requests.cancel(principal('rr-ci'), fixture['B by ci'].id);
      const everything = Object.keys(fixture).sort();
      const ofA = everything.filter((label) => label.startsWith('A '));
      const expected: Record<string, string[]> = {
        admin: everything,
        'rr-lead': everything,
        'rr-auditor': everything,
        'rr-ci': ['A by ci', 'B by ci'],
        'rr-req': ['A by req', 'B by req'],
        'rr-op1': ofA,
        'rr-op2': ofA,
        'rr-op3': everything,
        'rr-op4': ['A by op4', 'B by ci', 'B by req'],
        // Own request only: their share is of another version of A.
        'rr-op5': ['A by op5'],
        'rr-outsider': [],
      };

      const ids: string[] = (await db.query(`SELECT id FROM requests`)).map((r: { id: string }) => r.id);
      const views = await findRequestViews(db, ids);
      expect(views).toHaveLength(ids.length);
      // Requests of other tests go by their id.
      const labels = new Map(Object.entries(fixture).map(([label, request]) => [request.id as string, label]));
      const named = (requestIds: string[]) => requestIds.map((id) => labels.get(id) ?? id).sort();
      const listed: Record<string, string[]> = {};
      const allowed: Record<string, string[]> = {};
      const listedOfFixture: Record<string, string[]> = {};
      for (const [name, p] of Object.entries(principals)) {
        const rows = await listRequests(db, { visibleTo: p, limit: LIMIT });
        listed[name] = named(rows.map((r) => r.id));
        allowed[name] = named(views.filter((v) => canSee(p, v.request, v.custodianIds)).map((v) => v.request.id));
        listedOfFixture[name] = labelsOf(fixture, rows.map((r) => r.id));
      }
      // The SQL list and the single-request rule agree on every principal × request in the database...
      expect(listed).toEqual(allowed);
      // ...and both say what the rule means.
      expect(listedOfFixture).toEqual(expected);
    });

    it('combines visibility with a status filter', async () => {
      const pending = await submit(human, B);
      const cancelled = await submit(human, B);
      const notTheirs = await submit(q.automation, B);
      await requests.cancel(principal('rr-req'), cancelled.id);
      await requests.cancel(principal('rr-ci'), notTheirs.id);
      const fixture = { pending, cancelled, notTheirs };
      const list = async (status: RequestStatus) => labelsOf(fixture, (await listRequests(db, { status, visibleTo: principal('rr-req'), limit: LIMIT })).map((r) => r.id));
      expect(await list('pending')).toEqual(['pending']);
      expect(await list('cancelled')).toEqual(['cancelled']);
    });
  });

  describe('approvable by', () => {
    it('lists only pending, unexpired requests of the credential version the user holds a share of, which they have not decided yet', async () => {
      const [op1, op2] = q.operators as [Operator, Operator, Operator];
      const fixture = {
        open: await submit(q.automation, A),
        'decided by op2': await submit(q.automation, A),
        'decided by op1': await submit(q.automation, A),
        cancelled: await submit(q.automation, A),
        overdue: await submit(q.automation, A),
        'of B': await submit(q.automation, B),
        'A by op4': await submit(op4.http, A),
        'A by op5': await submit(op5.http, A),
        // op4's own request on B, of which op4 is a custodian: B's policy forbids self-approval.
        'B by op4': await submit(op4.http, B),
      };
      expect((await approve(op2, fixture['decided by op2'])).status).toBe(201);
      expect((await approve(op1, fixture['decided by op1'])).status).toBe(201);
      await requests.cancel(principal('rr-ci'), fixture.cancelled.id);

      const approvable: Record<string, string[]> = {};
      let overdueStatus: RequestStatus | undefined;
      // Past its expiry but still pending, only inside this transaction: it holds the row,
      // so no sweeper expires it meanwhile (on PostgreSQL it skips the locked row; the
      // embedded database has one connection and the sweep waits for it). Rolled back.
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`UPDATE requests SET expires_at = now() - interval '1 second' WHERE id = $1`, [fixture.overdue.id]);
          overdueStatus = (await tx.query(`SELECT status FROM requests WHERE id = $1`, [fixture.overdue.id]))[0].status;
          for (const [name, p] of Object.entries(principals)) {
            const rows = await listRequests(tx, { visibleTo: p, approvableBy: p.id, limit: LIMIT });
            approvable[name] = labelsOf(fixture, rows.map((r) => r.id));
          }
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(overdueStatus).toBe('pending');

      const ofA = ['A by op4', 'A by op5', 'open'];
      expect(approvable).toEqual({
        admin: [],
        'rr-lead': [],
        'rr-auditor': [],
        'rr-ci': [],
        'rr-req': [],
        'rr-outsider': [],
        // Another custodian's decision leaves it open to them; their own closes it.
        'rr-op1': [...ofA, 'decided by op2'].sort(),
        'rr-op2': [...ofA, 'decided by op1'].sort(),
        'rr-op3': [...ofA, 'B by op4', 'decided by op1', 'decided by op2', 'of B'].sort(),
        // Sees its own request on A, but holds no share of A; may not approve its own request on B.
        'rr-op4': ['of B'],
        // Sees its own request on A, but holds a share of A's version 2, not 1.
        'rr-op5': [],
      });
    });
  });

  it('the inbox of a custodian who lost the operator role is empty: nothing there is theirs to decide', async () => {
    await submit(q.automation, A);
    const reader = gateway.app.get(RequestReader);
    const op1 = principal('rr-op1');
    expect((await reader.list(op1, { approvable: true, limit: LIMIT })).views.length).toBeGreaterThan(0);
    expect(await reader.list({ ...op1, roles: [] }, { approvable: true, limit: LIMIT })).toEqual({ views: [], more: false });
  });

  describe('the end of a request', () => {
    it('destroys the request key on every way a request ends: cancelled, rejected, expired, succeeded', async () => {
      const [op1, op2] = q.operators as [Operator, Operator, Operator];
      const cancelled = await submit(q.automation, A);
      const rejected = await submit(q.automation, A);
      const expired = await submit(q.automation, A);
      const succeeded = await submit(q.automation, A);
      for (const request of [cancelled, rejected, expired, succeeded]) expect((await stored(request.id)).key).toEqual(expect.any(String));

      await requests.cancel(principal('rr-ci'), cancelled.id);
      expect((await approve(op1, rejected, 'reject')).status).toBe(201);
      await db.query(`UPDATE requests SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
      // The background sweep may come first; either way the lifecycle expires it.
      await gateway.app.get(MaintenanceService).expireOverdue();
      expect((await approve(op1, succeeded)).status).toBe(201);
      expect((await approve(op2, succeeded)).status).toBe(201);
      await waitForStatus(succeeded.id, 'succeeded');

      expect(await stored(cancelled.id)).toEqual({ status: 'cancelled', key: null });
      expect(await stored(rejected.id)).toEqual({ status: 'rejected', key: null });
      expect(await stored(expired.id)).toEqual({ status: 'expired', key: null });
      expect(await stored(succeeded.id)).toEqual({ status: 'succeeded', key: null });
    });

    it('the database refuses a final status on a request that still holds its key', async () => {
      const request = await submit(q.automation, A);
      for (const status of FINAL_REQUEST_STATUSES) {
        await expect(db.query(`UPDATE requests SET status = $2 WHERE id = $1`, [request.id, status])).rejects.toMatchObject({ code: '23514' });
      }
      // The same statements pass where the rule allows them (rolled back).
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`UPDATE requests SET status = 'approved' WHERE id = $1`, [request.id]);
          await tx.query(`UPDATE requests SET status = 'executing' WHERE id = $1`, [request.id]);
          await tx.query(`UPDATE requests SET status = 'failed', request_private_key_sealed = NULL WHERE id = $1`, [request.id]);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await stored(request.id)).toEqual({ status: 'pending', key: expect.any(String) });
    });
  });

  describe('lock, then read', () => {
    // The embedded database has one connection: a second transaction cannot even begin
    // while the first is open, so there is no lock to wait for and nothing to show.
    (kind === 'postgres' ? it : it.skip)('a locked read that waited for another decision sees that decision', async () => {
      const [op1] = q.operators as [Operator, Operator, Operator];
      const request = await submit(q.automation, A);
      const body = await decisionBody(op1, request, 'approve');
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));

      const first = audit.transaction(async (tx) => {
        const view = await findRequestView(tx, request.id, true);
        const index = view?.custodians.find((c) => c.userId === op1.id)?.index ?? null;
        await insertApproval(tx, { requestId: request.id, approverId: op1.id, decision: 'approve', statement: body.statement, shareEnvelope: body.share ?? null, shareIndex: index, reason: null, voterGroups: [] });
        holding();
        await released;
      });
      await held;
      const second = audit.transaction((tx) => findRequestView(tx, request.id, true));
      // The second is blocked on the row lock (so its read cannot have started) before the first commits.
      await waitUntil(async () => (await lockWaiters()) === 1);
      release();
      await first;
      const seen = await second;
      expect(seen?.approvals.map((a) => [a.approverId, a.decision])).toEqual([[op1.id, 'approve']]);
    });
  });

  /** Statements on requests blocked on a lock in this database. */
  async function lockWaiters(): Promise<number> {
    const rows: { n: number }[] = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%from requests%' AND pid <> pg_backend_pid()`,
    );
    return rows[0]?.n ?? 0;
  }
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
