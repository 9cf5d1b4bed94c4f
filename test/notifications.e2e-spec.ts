import { createHash } from 'node:crypto';
import { canonicalJson } from '../libs/crypto/index.js';
import { NotificationDispatcher } from '../apps/gateway/src/notifications/notification-dispatcher.js';
import { Http } from './support/http.js';
import { dumpAllTables, findLeaks } from './support/leak-scan.js';
import { createUser, decisionBody, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { HttpReceiver, MailReceiver, waitUntil } from './support/receivers.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

const PUBLIC_URL = 'https://qg.example.test';

describe.each(testDatabaseKinds())('notifications (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  let receiver: HttpReceiver;
  let smtp: MailReceiver;
  /** Everything that must never leave in a notification. */
  const secrets: Record<string, Uint8Array | string> = {};
  const emails = ['op1@example.test', 'op2@example.test', 'op3@example.test'];

  beforeAll(async () => {
    receiver = await new HttpReceiver().start();
    smtp = await new MailReceiver().start();
    gateway = await startTestGateway(kind, { publicUrl: PUBLIC_URL, smtpUrl: smtp.url });
    q = await setUpSigningQuorum(new Http(gateway.url), { prefix: 'n' });
    secrets['signing key d'] = q.signingKey.privateJwk.d ?? '';
    secrets['service token'] = q.serviceToken;
    secrets['admin token'] = q.admin.token ?? '';
    q.operators.forEach((op, i) => (secrets[`operator ${i + 1} token`] = op.http.token ?? ''));
    for (const [i, op] of q.operators.entries()) {
      expect((await op.http.put('/api/v1/me/notifications', { email: emails[i] })).status).toBe(200);
    }
  }, 60000);

  afterAll(async () => {
    if (process.env['QG_TEST_DUMP_LOGS'] !== undefined) (await import('node:fs')).writeFileSync(`/tmp/notify-logs-${kind}.txt`, gateway.logs.join(''));
    await gateway?.close();
    await receiver?.stop();
    await smtp?.stop();
  });

  // Each test subscribes its own channels: none of them hears another test's events.
  afterEach(async () => {
    for (const c of (await q.admin.get('/api/v1/notification-channels')).body.channels) await q.admin.request('DELETE', `/api/v1/notification-channels/${c.id}`);
  });

  async function channel(body: Record<string, unknown>) {
    const res = await q.admin.post('/api/v1/notification-channels', body);
    expect(res.status).toBe(201);
    return res.body;
  }

  async function submit() {
    const res = await q.automation.post('/api/v1/requests', signRequestBody(q.credential.name));
    expect(res.status).toBe(201);
    return res.body;
  }

  /** Approves through HTTP, keeping each statement, share and envelope for the leak scan. */
  async function approveKeeping(opIndex: number, request: any) {
    const op = q.operators[opIndex]!;
    const envelope = (await op.http.get(`/api/v1/requests/${request.id}/share`)).body.envelope as string;
    const body = await decisionBody(op, request, 'approve');
    secrets[`envelope ${request.id} ${opIndex}`] = envelope;
    secrets[`statement ${request.id} ${opIndex}`] = body.statement;
    secrets[`share ${request.id} ${opIndex}`] = body.share ?? '';
    const res = await op.http.post(`/api/v1/requests/${request.id}/approvals`, body);
    expect(res.status).toBe(201);
    return res;
  }

  it('puts a transition in the outbox only when a channel subscribes to what it announces (issue 20)', async () => {
    const outboxed = async (requestId: string) =>
      ((await gateway.ctx.dataSource.query(`SELECT data->>'status' AS status FROM pgboss.job WHERE name = 'request-notifications' AND data->>'id' = $1 ORDER BY created_on`, [requestId])) as { status: string }[]).map((r) => r.status);
    const runToTheEnd = async () => {
      const request = await submit();
      await approveKeeping(0, request);
      await approveKeeping(1, request);
      expect((await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=30`)).body.status).toBe('succeeded');
      return request.id as string;
    };
    expect(await outboxed(await runToTheEnd())).toEqual([]);
    await channel({ name: 'successes-only', kind: 'webhook', config: { url: `${receiver.url}/successes-only` }, events: ['request.succeeded'] });
    const heard = await runToTheEnd();
    expect(await outboxed(heard)).toEqual(['succeeded']);
    await waitUntil(() => receiver.on('/successes-only').some((r) => r.body.includes(heard)), 'the success event', 20000);
  });

  it('manages channels (admin only), answers a webhook secret once and keeps secrets sealed', async () => {
    const created = await q.admin.post('/api/v1/notification-channels', { name: 'crud-hook', kind: 'webhook', config: { url: `${receiver.url}/crud` } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'crud-hook', kind: 'webhook', config: { url: `${receiver.url}/crud` }, events: expect.arrayContaining(['request.pending', 'request.revealed']) });
    expect(created.body.events).not.toContain('audit.entry');
    expect(created.body.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const slackUrl = `${receiver.url}/slack-crud/T000/B000/XXXXSECRETPART`;
    const slack = await q.admin.post('/api/v1/notification-channels', { name: 'crud-slack', kind: 'slack', config: { webhookUrl: slackUrl } });
    expect(slack.status).toBe(201);
    expect(slack.body).not.toHaveProperty('signingSecret');
    expect(JSON.stringify(slack.body)).not.toContain('SECRETPART');

    const read = await q.admin.get(`/api/v1/notification-channels/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).not.toHaveProperty('signingSecret');
    const list = await q.admin.get('/api/v1/notification-channels');
    expect(list.body.channels.map((c: any) => c.name)).toEqual(expect.arrayContaining(['crud-hook', 'crud-slack']));
    expect(JSON.stringify(list.body)).not.toContain(created.body.signingSecret);
    expect(JSON.stringify(list.body)).not.toContain('SECRETPART');
    // Sealed at rest: neither the signing secret nor the Slack URL is in any table.
    expect(findLeaks(await dumpAllTables(gateway.ctx.dataSource), { signingSecret: created.body.signingSecret, slackUrl: 'XXXXSECRETPART' })).toEqual([]);

    const patched = await q.admin.request('PATCH', `/api/v1/notification-channels/${created.body.id}`, { events: ['request.pending'] });
    expect(patched.status).toBe(200);
    expect(patched.body.events).toEqual(['request.pending']);

    const refused: [unknown, number][] = [
      [{ name: 'x1', kind: 'pager', config: {} }, 400],
      [{ name: 'x2', kind: 'webhook', config: { url: 'not a url' } }, 400],
      [{ name: 'x3', kind: 'webhook', config: { url: 'ftp://example.test/x' } }, 400],
      [{ name: 'x4', kind: 'slack', config: { webhookUrl: 'http://hooks.example.test/x' } }, 400],
      [{ name: 'x5', kind: 'slack', config: { webhookUrl: `${receiver.url}/s` }, events: ['audit.entry'] }, 400],
      [{ name: 'x6', kind: 'email', config: { to: 'nobody' } }, 400],
      [{ name: 'x7', kind: 'email', config: { cc: 'a@b.test' } }, 400],
      [{ name: 'x8', kind: 'webhook', config: { url: `${receiver.url}/x` }, events: ['request.bogus'] }, 400],
      [{ name: 'crud-hook', kind: 'webhook', config: { url: `${receiver.url}/x` } }, 409],
    ];
    for (const [body, status] of refused) {
      const res = await q.admin.post('/api/v1/notification-channels', body);
      expect([JSON.stringify(body), res.status, res.headers.get('content-type')]).toEqual([JSON.stringify(body), status, expect.stringContaining('application/problem+json')]);
    }
    expect((await q.operators[0]!.http.get('/api/v1/notification-channels')).status).toBe(403);
    expect((await q.lead.post('/api/v1/notification-channels', { name: 'lead-hook', kind: 'webhook', config: { url: `${receiver.url}/x` } })).status).toBe(403);
    expect((await q.admin.get('/api/v1/notification-channels/not-a-uuid')).status).toBe(404);

    expect((await q.admin.request('DELETE', `/api/v1/notification-channels/${created.body.id}`)).status).toBe(204);
    expect((await q.admin.request('DELETE', `/api/v1/notification-channels/${slack.body.id}`)).status).toBe(204);
    expect((await q.admin.get(`/api/v1/notification-channels/${created.body.id}`)).status).toBe(404);
    const actions = (await gateway.ctx.dataSource.query(`SELECT action FROM audit_log WHERE subject = $1 ORDER BY seq`, [`notification_channel:${created.body.id}`])).map((r: any) => r.action);
    expect(actions).toEqual(['notification_channel.created', 'notification_channel.updated', 'notification_channel.deleted']);
  });

  it('keeps each user\'s email address and choice of events', async () => {
    const op3 = q.operators[2]!.http;
    expect((await op3.get('/api/v1/me/notifications')).body).toMatchObject({ email: emails[2], events: { 'request.pending': true, 'request.revealed': true } });
    const put = await op3.put('/api/v1/me/notifications', { events: { 'request.pending': false } });
    expect(put.status).toBe(200);
    expect(put.body.events).toMatchObject({ 'request.pending': false, 'request.reminder': true });
    expect((await op3.get('/api/v1/me/notifications')).body.events['request.pending']).toBe(false);
    for (const body of [{ email: 'not-an-address' }, { events: { 'request.bogus': true } }, { events: { 'request.pending': 'yes' } }, { events: [] }]) {
      expect([body, (await op3.put('/api/v1/me/notifications', body)).status]).toEqual([body, 400]);
    }
    expect((await q.automation.get('/api/v1/me/notifications')).status).toBe(403);
  });

  it('tells webhook, Slack and email of a request\'s life, each event once per channel, signed, with a link and no secret', async () => {
    const hook = await channel({ name: 'life-hook', kind: 'webhook', config: { url: `${receiver.url}/life` } });
    await channel({ name: 'life-slack', kind: 'slack', config: { webhookUrl: `${receiver.url}/life-slack` } });
    const mail = await channel({ name: 'life-mail', kind: 'email', config: {} });
    const request = await submit();

    await waitUntil(() => receiver.on('/life').length >= 1 && receiver.on('/life-slack').length >= 1 && smtp.mails.length >= 2, 'request.pending everywhere');
    const [pending] = receiver.verified('/life', hook.signingSecret);
    expect(pending).toMatchObject({
      type: 'request.pending',
      id: expect.stringMatching(/^msg_/),
      data: {
        request: {
          id: request.id,
          status: 'pending',
          credential: { id: q.credential.id, name: q.credential.name },
          operation: { kind: 'sign', summary: 'sign a raw payload' },
          requester: { name: 'n-ci' },
          reason: 'release v1.2.3 (OPS-42)',
          expiresAt: request.expiresAt,
          approvals: { received: 0, required: 2 },
          link: `${PUBLIC_URL}/requests/${request.id}`,
        },
      },
    });
    expect(receiver.on('/life')[0]!.headers['webhook-id']).toBe(pending!.id);
    // A body signed with another secret does not verify.
    expect(() => receiver.verified('/life', 'whsec_' + Buffer.alloc(32, 1).toString('base64'))).toThrow();

    const slackBody = JSON.parse(receiver.on('/life-slack')[0]!.body);
    expect(slackBody.text).toContain('Approval needed');
    const button = slackBody.blocks.flatMap((b: any) => b.elements ?? []).find((e: any) => e.type === 'button');
    expect(button).toMatchObject({ text: { text: 'Open in quorumgate' }, url: `${PUBLIC_URL}/requests/${request.id}` });
    expect(JSON.stringify(slackBody.blocks)).not.toMatch(/"action_id":"approve|value/);

    // Email: to the custodians who can decide and kept request.pending on (op3 turned it off above).
    await waitUntil(() => smtp.to(emails[0]!).length >= 1 && smtp.to(emails[1]!).length >= 1, 'the pending emails');
    expect(smtp.to(emails[2]!)).toHaveLength(0);
    const email = smtp.to(emails[0]!)[0]!.raw;
    expect(email).toMatch(/Subject: Approval needed/);
    expect(email).toContain('text/plain');
    expect(email).toContain('text/html');
    expect(email).toContain(`${PUBLIC_URL}/requests/${request.id}`);

    await approveKeeping(0, request);
    await approveKeeping(1, request);
    const done = await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=20`);
    expect(done.body.status).toBe('succeeded');
    secrets['operation result'] = done.body.result.signature;

    const mine = () => receiver.verified('/life', hook.signingSecret).filter((e) => e.data.request.id === request.id);
    await waitUntil(() => mine().some((e) => e.type === 'request.succeeded'), 'request.succeeded');
    await new Promise((r) => setTimeout(r, 2500));
    const types = mine().map((e) => e.type);
    expect(types.sort()).toEqual(['request.approved', 'request.pending', 'request.succeeded']);
    expect(new Set(mine().map((e) => e.id)).size).toBe(3);
    expect(mine().find((e) => e.type === 'request.succeeded')!.data.request.approvals).toEqual({ received: 2, required: 2 });

    const deliveries = await q.admin.get(`/api/v1/notification-channels/${hook.id}/deliveries`);
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.deliveries.filter((d: any) => d.status === 'delivered').map((d: any) => d.type).sort()).toEqual(['request.approved', 'request.pending', 'request.succeeded']);
    // The requester is a service account: no email for the outcome.
    expect((await q.admin.get(`/api/v1/notification-channels/${mail.id}/deliveries`)).body.deliveries.map((d: any) => d.type)).toEqual(['request.pending', 'request.pending']);

    // Leak scan over everything any receiver got, and every stored payload.
    const everything = [...receiver.received.map((r) => r.body + JSON.stringify(r.headers)), ...smtp.mails.map((m) => m.raw)].join('\n');
    const stored = JSON.stringify(await gateway.ctx.dataSource.query('SELECT payload FROM notification_deliveries'));
    expect(findLeaks(everything + stored, secrets)).toEqual([]);
    expect(everything).not.toMatch(/"(statement|share|envelope|result|token)"/);
  }, 60000);

  it('delivers on the third try to a receiver that answers 500 twice, and gives up at once on a 410', async () => {
    const flaky = await channel({ name: 'flaky-hook', kind: 'webhook', config: { url: `${receiver.url}/flaky` }, events: ['request.cancelled'] });
    const sent = await q.admin.post(`/api/v1/notification-channels/${flaky.id}/test`);
    expect(sent.status).toBe(202);
    const deliveries = () => q.admin.get(`/api/v1/notification-channels/${flaky.id}/deliveries`).then((r) => r.body.deliveries);
    await waitUntil(async () => (await deliveries())[0]?.status === 'delivered', 'the third try', 30000);
    expect((await deliveries())[0]).toMatchObject({ eventId: sent.body.eventId, type: 'notification.test', status: 'delivered', attempts: 3, lastError: 'the receiver answered 500' });
    const tries = receiver.on('/flaky');
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((t) => t.headers['webhook-id']))).toEqual(new Set([sent.body.eventId]));
    expect(receiver.verified('/flaky', flaky.signingSecret).every((e) => e.type === 'notification.test')).toBe(true);

    const gone = await channel({ name: 'gone-hook', kind: 'webhook', config: { url: `${receiver.url}/gone` }, events: ['request.cancelled'] });
    await q.admin.post(`/api/v1/notification-channels/${gone.id}/test`);
    const goneDeliveries = () => q.admin.get(`/api/v1/notification-channels/${gone.id}/deliveries`).then((r) => r.body.deliveries);
    await waitUntil(async () => (await goneDeliveries())[0]?.status === 'failed', 'the 410 to fail the delivery');
    expect((await goneDeliveries())[0]).toMatchObject({ attempts: 1, lastError: 'the receiver answered 410' });
    await new Promise((r) => setTimeout(r, 2000));
    expect(receiver.on('/gone')).toHaveLength(1);
  }, 60000);

  it('gives a failing delivery up at its first try after a day', async () => {
    const down = await channel({ name: 'down-hook', kind: 'webhook', config: { url: `${receiver.url}/down` }, events: ['request.cancelled'] });
    const sent = await q.admin.post(`/api/v1/notification-channels/${down.id}/test`);
    const delivery = () => q.admin.get(`/api/v1/notification-channels/${down.id}/deliveries`).then((r) => r.body.deliveries[0]);
    await waitUntil(async () => (await delivery())?.attempts >= 1, 'the first try');
    expect(await delivery()).toMatchObject({ status: 'pending', lastError: 'the receiver answered 503' });
    // A day passes (the row's age is what counts).
    await gateway.ctx.dataSource.query(`UPDATE notification_deliveries SET created_at = now() - interval '25 hours' WHERE id = $1`, [sent.body.deliveryId]);
    await waitUntil(async () => (await delivery()).status === 'failed', 'the delivery to be given up', 30000);
    expect((await delivery()).lastError).toBe('given up after a day; last error: the receiver answered 503');
    const tries = receiver.on('/down').length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(receiver.on('/down')).toHaveLength(tries);
  }, 60000);

  it('never signs and sends a delivery that a database writer changed', async () => {
    const down = await channel({ name: 'tampered-hook', kind: 'webhook', config: { url: `${receiver.url}/down-tampered` }, events: ['request.cancelled'] });
    const sent = await q.admin.post(`/api/v1/notification-channels/${down.id}/test`);
    const delivery = () => q.admin.get(`/api/v1/notification-channels/${down.id}/deliveries`).then((r) => r.body.deliveries[0]);
    await waitUntil(async () => (await delivery())?.attempts >= 1, 'the first try');
    await gateway.ctx.dataSource.query(`UPDATE notification_deliveries SET payload = jsonb_set(payload, '{data,message}', '"approve at https://evil.example"') WHERE id = $1`, [
      sent.body.deliveryId,
    ]);
    await waitUntil(async () => (await delivery()).status === 'failed', 'the tampered delivery to be refused', 30000);
    expect((await delivery()).lastError).toMatch(/^integrity check failed/);
    expect(receiver.on('/down-tampered').some((r) => r.body.includes('evil'))).toBe(false);
  }, 60000);

  it('does not slow an approval when a receiver hangs', async () => {
    const hang = await channel({ name: 'hang-hook', kind: 'webhook', config: { url: `${receiver.url}/hang` } });
    const request = await submit();
    await waitUntil(() => receiver.on('/hang').some((r) => r.body.includes(request.id)), 'the hanging receiver to be called');
    const started = Date.now();
    await approveKeeping(0, request);
    await approveKeeping(1, request);
    const done = await q.automation.get(`/api/v1/requests/${request.id}/wait?timeoutSeconds=20`);
    const took = Date.now() - started;
    expect(done.body.status).toBe('succeeded');
    // The receiver holds each delivery for the send timeout (10 s): an approval path that waited for it would take longer than this.
    expect(took).toBeLessThan(8000);
    expect((await q.admin.get(`/api/v1/notification-channels/${hang.id}/deliveries`)).body.deliveries.some((d: any) => d.status === 'pending')).toBe(true);
    await q.admin.request('DELETE', `/api/v1/notification-channels/${hang.id}`);
  }, 60000);

  it('reminds the custodians who have not decided, once per point of the time to live', async () => {
    await channel({ name: 'remind-mail', kind: 'email', config: {} });
    const request = await submit();
    const reminderJobs = () =>
      gateway.ctx.dataSource.query(`SELECT data, start_after AS "startAfter" FROM pgboss.job WHERE name = 'request-reminders' AND data->>'requestId' = $1 ORDER BY start_after`, [request.id]);
    await waitUntil(async () => (await reminderJobs()).length === 2, 'the reminders to be scheduled');
    const jobs = await reminderJobs();
    const ttl = Date.parse(request.expiresAt) - Date.now();
    expect(jobs.map((j: any) => j.data.percent)).toEqual([50, 90]);
    expect(new Date(jobs[1].startAfter).getTime()).toBeGreaterThan(Date.now() + ttl * 0.8);

    await approveKeeping(0, request);
    const before = smtp.mails.length;
    const dispatcher = gateway.app.get(NotificationDispatcher);
    await dispatcher.remind({ requestId: request.id, percent: 50 });
    await dispatcher.remind({ requestId: request.id, percent: 50 });
    const reminderMails = () => smtp.mails.slice(before).filter((m) => m.raw.includes('X-Quorumgate-Event: request.reminder'));
    await waitUntil(() => reminderMails().length >= 2, 'the reminders');
    await new Promise((r) => setTimeout(r, 2000));
    const reminders = reminderMails();
    expect(reminders.flatMap((m) => m.to).sort()).toEqual([emails[1], emails[2]]);
    await q.automation.post(`/api/v1/requests/${request.id}/cancel`);
  }, 60000);

  it('streams every audit entry in order with its hash to a SIEM webhook', async () => {
    const siem = await channel({ name: 'siem', kind: 'webhook', config: { url: `${receiver.url}/siem` }, events: ['audit.entry'] });
    const head = async () => Number((await gateway.ctx.dataSource.query('SELECT seq FROM audit_head'))[0].seq);
    await waitUntil(async () => receiver.on('/siem').length >= (await head()), 'the audit stream to catch up', 30000);
    const entries = receiver.verified('/siem', siem.signingSecret).map((e) => e.data);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: entries.length }, (_, i) => i + 1));
    let prev = '0'.repeat(64);
    for (const entry of entries) {
      const { hash, ...rest } = entry;
      expect(rest.prevHash).toBe(prev);
      expect(createHash('sha256').update(prev + canonicalJson(rest)).digest('hex')).toBe(hash);
      prev = hash;
    }
    // The stream carries each entry whole, as GET /audit gives it to an auditor, or the SIEM could not check its hash:
    // an approval's entry holds the approver's signed statement (docs/adr/0011). Nothing else may be in it.
    const notStatements = Object.fromEntries(Object.entries(secrets).filter(([name]) => !name.startsWith('statement ')));
    expect(findLeaks(receiver.on('/siem').map((r) => r.body).join('\n'), notStatements)).toEqual([]);
    expect((await q.admin.get(`/api/v1/notification-channels/${siem.id}`)).body.auditCursor).toBeGreaterThanOrEqual(entries.length);
  }, 60000);

  it('announces a break-glass reveal loudly to the security leads and the custodians', async () => {
    const lead = await createUser(q.admin, 'n-lead2', ['security_lead']);
    await lead.http.put('/api/v1/me/notifications', { email: 'lead2@example.test' });
    const hook = await channel({ name: 'reveal-hook', kind: 'webhook', config: { url: `${receiver.url}/reveal` }, events: ['request.revealed'] });
    await channel({ name: 'reveal-mail', kind: 'email', config: {}, events: ['request.revealed'] });
    const requester = await createUser(q.admin, 'n-breaker', ['requester']);
    const { exportPublicJwks, generateCustodianKeys } = await import('../libs/custodian/index.js');
    const keys = await exportPublicJwks(await generateCustodianKeys());
    expect((await requester.http.put('/api/v1/me/keys', { encryptionKey: keys.encryptionKey, signingKey: keys.signingKey, currentPassword: requester.password })).status).toBe(200);
    expect((await q.lead.post('/api/v1/policies', { name: 'n-break-glass', credentialId: q.credential.id, operations: [{ kind: 'reveal' }], approvals: { min: 2 }, requesters: { users: [requester.id] } })).status).toBe(201);
    const res = await requester.http.post('/api/v1/requests', { credential: q.credential.name, operation: { kind: 'reveal', params: {} }, reason: 'incident INC-7' });
    expect(res.status).toBe(201);
    expect(res.body.digestInput.operation.params.recipient).toBe(keys.encryptionThumbprint);
    await approveKeeping(0, res.body);
    await approveKeeping(1, res.body);
    const done = await requester.http.get(`/api/v1/requests/${res.body.id}/wait?timeoutSeconds=20`);
    expect(done.body.status).toBe('succeeded');
    secrets['revealed envelope'] = done.body.result.envelope;
    await waitUntil(() => receiver.on('/reveal').length >= 1, 'request.revealed');
    expect(receiver.verified('/reveal', hook.signingSecret)[0]).toMatchObject({ type: 'request.revealed', data: { request: { id: res.body.id, requester: { name: 'n-breaker' } } } });
    const revealMails = () => smtp.mails.filter((m) => m.raw.includes('X-Quorumgate-Event: request.revealed'));
    await waitUntil(() => revealMails().length >= 4, 'the reveal emails');
    await new Promise((r) => setTimeout(r, 1500));
    expect(revealMails().flatMap((m) => m.to).sort()).toEqual(['lead2@example.test', ...emails].sort());
    expect(revealMails()[0]!.raw).toMatch(/Subject: \[BREAK-GLASS\]/);
    const everything = [...receiver.received.filter((r) => r.path !== '/siem').map((r) => r.body), ...smtp.mails.map((m) => m.raw)].join('\n');
    expect(findLeaks(everything, secrets)).toEqual([]);
  }, 60000);
});
