import type express from 'express';
import { Http } from './support/http.js';
import { createOperator, createUser, generateSigningJwk, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/**
 * Issue 15 "Done when": every route the gateway serves × every kind of caller × own or
 * other resource, against the table below. The routes come from the HTTP server itself, so
 * a route missing from the table fails the test: whoever adds a route says who may call it.
 *
 * Outcomes: `ok` the caller got past every access check (2xx, or a 4xx about the input or
 * the resource's state); `403` refused for their role or relation; `404` the resource is
 * hidden from them as if it did not exist; `401` no caller. Swagger's pages under /api/docs
 * and the web UI's files are documentation and static assets served to anyone; they are
 * left out.
 */
const CALLERS = ['admin', 'security_lead', 'operator', 'requester', 'auditor', 'service_account', 'anonymous'] as const;
type Caller = (typeof CALLERS)[number];
type Outcome = 'ok' | '401' | '403' | '404';
/** One outcome per caller, in the order of CALLERS. */
type Row = [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome];
type Expected = Row | { own: Row; other: Row };

const PUBLIC: Row = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'];
const ANY_CALLER: Row = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', '401'];

// prettier-ignore
const EXPECTED: Record<string, Expected> = {
  //                                        admin  lead   operator requester auditor service  anonymous
  'GET /healthz':                           PUBLIC,
  'GET /readyz':                            PUBLIC,
  'GET /metrics':                           PUBLIC,
  'GET /.well-known/jwks.json':             PUBLIC,
  'POST /api/v1/auth/login':                PUBLIC,
  'POST /api/v1/auth/logout':               PUBLIC,
  'GET /api/v1/me':                         ANY_CALLER,
  'GET /api/v1/auth/methods':               PUBLIC,
  // Single sign-on is not configured in this gateway: its routes answer 404 to everyone.
  'GET /api/v1/auth/oidc/login':            ['404', '404', '404', '404', '404', '404', '404'],
  'GET /api/v1/auth/oidc/callback':         ['404', '404', '404', '404', '404', '404', '404'],
  'GET /api/v1/me/notifications':           ['ok', 'ok', 'ok', 'ok', 'ok', '403', '401'],
  'PUT /api/v1/me/notifications':           ['ok', 'ok', 'ok', 'ok', 'ok', '403', '401'],
  'POST /api/v1/notification-channels':     ['ok', '403', '403', '403', '403', '403', '401'],
  'GET /api/v1/notification-channels':      ['ok', '403', '403', '403', '403', '403', '401'],
  'GET /api/v1/notification-channels/:id':  ['ok', '403', '403', '403', '403', '403', '401'],
  'PATCH /api/v1/notification-channels/:id': ['ok', '403', '403', '403', '403', '403', '401'],
  'DELETE /api/v1/notification-channels/:id': ['ok', '403', '403', '403', '403', '403', '401'],
  'GET /api/v1/notification-channels/:id/deliveries': ['ok', '403', '403', '403', '403', '403', '401'],
  'POST /api/v1/notification-channels/:id/test': ['ok', '403', '403', '403', '403', '403', '401'],
  'PUT /api/v1/me/password':                ANY_CALLER,
  'PUT /api/v1/me/keys':                    ANY_CALLER,
  'POST /api/v1/users':                     ['ok', '403', '403', '403', '403', '403', '401'],
  'GET /api/v1/users':                      ['ok', 'ok', '403', '403', 'ok', '403', '401'],
  // An admin reset of another's password (an empty body fails validation first: `ok`, nobody's password changes).
  'PUT /api/v1/users/:id/password':         ['ok', '403', '403', '403', '403', '403', '401'],
  'PATCH /api/v1/users/:id':                { own: ['ok', '403', '403', '403', '403', '403', '401'], other: ['ok', '403', '403', '403', '403', '403', '401'] },
  'POST /api/v1/service-accounts':          ['ok', '403', '403', '403', '403', '403', '401'],
  'GET /api/v1/service-accounts':           ['ok', '403', '403', '403', 'ok', '403', '401'],
  'DELETE /api/v1/service-accounts/:id':    { own: ['ok', '403', '403', '403', '403', '403', '401'], other: ['ok', '403', '403', '403', '403', '403', '401'] },
  'POST /api/v1/credentials':               ['403', 'ok', '403', '403', '403', '403', '401'],
  'GET /api/v1/credentials':                ANY_CALLER,
  'GET /api/v1/credentials/:idOrName':      { own: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', '401'], other: ['ok', 'ok', '404', '404', 'ok', 'ok', '401'] },
  // Custody (spec §4a): health to those who may see the credential, a custodian's own share and check-in (an empty body fails validation first: `ok`).
  'GET /api/v1/credentials/:id/health':     { own: ['ok', 'ok', 'ok', '403', 'ok', '403', '401'], other: ['ok', 'ok', '404', '403', 'ok', '403', '401'] },
  'GET /api/v1/credentials/:id/share':      { own: ['403', '403', 'ok', '403', '403', '403', '401'], other: ['403', '403', '403', '403', '403', '403', '401'] },
  'POST /api/v1/credentials/:id/check-ins': ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', '401'],
  // Versions (spec §4a): the history to whoever may see the credential; intake keys to security leads.
  'GET /api/v1/credentials/:id/versions':   { own: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', '401'], other: ['ok', 'ok', '404', '404', 'ok', 'ok', '401'] },
  'POST /api/v1/credentials/:id/intake-keys': ['403', 'ok', '403', '403', '403', '403', '401'],
  // The lost-key runbook (issue 16 item 8): which credentials lost a live share, to those who run it and audit it.
  'GET /api/v1/custody/affected':          ['ok', 'ok', '403', '403', 'ok', '403', '401'],
  'POST /api/v1/policies':                  ['403', 'ok', '403', '403', '403', '403', '401'],
  'GET /api/v1/policies':                   ANY_CALLER,
  'DELETE /api/v1/policies/:id':            ['403', 'ok', '403', '403', '403', '403', '401'],
  'GET /api/v1/directory':                  ['ok', 'ok', '403', '403', 'ok', '403', '401'],
  'GET /api/v1/policies/:id':               { own: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', '401'], other: ['ok', 'ok', '404', '404', 'ok', 'ok', '401'] },
  'PATCH /api/v1/policies/:id':             ['403', 'ok', '403', '403', '403', '403', '401'],
  // Security leads submit custody requests (spec §4a), under the custody policy only.
  'POST /api/v1/requests':                  ['403', 'ok', '403', 'ok', '403', 'ok', '401'],
  // Read-only (creates nothing): who may submit may ask what a submission would fall under.
  'POST /api/v1/requests/preview':          ['403', '403', '403', 'ok', '403', 'ok', '401'],
  'GET /api/v1/requests':                   ANY_CALLER,
  'GET /api/v1/requests/:id':               { own: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', '401'], other: ['ok', 'ok', '404', '404', 'ok', '404', '401'] },
  'GET /api/v1/requests/:id/wait':          { own: ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', '401'], other: ['ok', 'ok', '404', '404', 'ok', '404', '401'] },
  // Spec §4: a non-custodian is "not eligible" (403), even where GET /requests/:id hides the request (404).
  'GET /api/v1/requests/:id/share':         { own: ['403', '403', 'ok', '403', '403', '403', '401'], other: ['403', '403', '403', '403', '403', '403', '401'] },
  'POST /api/v1/requests/:id/approvals':    { own: ['403', '403', 'ok', '403', '403', '403', '401'], other: ['403', '403', '403', '403', '403', '403', '401'] },
  // The requester, admins and security leads cancel; a custodian rejects instead, an auditor only reads.
  'POST /api/v1/requests/:id/cancel':       { own: ['ok', 'ok', '403', 'ok', '403', 'ok', '401'], other: ['ok', 'ok', '403', '403', '403', '403', '401'] },
  'GET /api/v1/events':                     ANY_CALLER,
  'GET /api/v1/audit':                      ['403', '403', '403', '403', 'ok', '403', '401'],
  'GET /api/v1/audit/verify':               ['403', '403', '403', '403', 'ok', '403', '401'],
  'GET /api/v1/audit/checkpoints':          ['403', '403', '403', '403', 'ok', '403', '401'],
  'POST /api/v1/audit/checkpoints':         ['403', '403', '403', '403', 'ok', '403', '401'],
};

/** The routes the HTTP server answers, as `METHOD /path/:param`, documentation and web UI files left out. */
function servedRoutes(gateway: TestGateway): string[] {
  const app = gateway.app.getHttpAdapter().getInstance() as express.Express & { router: { stack: { route?: { path: unknown; methods: Record<string, boolean> } }[] } };
  const routes = new Set<string>();
  for (const layer of app.router.stack) {
    const route = layer.route;
    if (route === undefined || typeof route.path !== 'string') continue;
    if (route.path === '/' || route.path.startsWith('/api/docs')) continue;
    for (const method of Object.keys(route.methods)) routes.add(`${method.toUpperCase()} ${route.path}`);
  }
  return [...routes].sort();
}

describe.each(testDatabaseKinds())('who may call which route (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  const callers = {} as Record<Caller, Http>;
  const ids = {} as Record<'c1' | 'c2' | 'p1' | 'p2' | 'r1' | 'r2' | 'serviceAccount' | 'requesterUser' | 'adminUser', string>;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    const anonymous = new Http(gateway.url);
    q = await setUpSigningQuorum(anonymous, { prefix: 'am' });
    const admin = await createUser(q.admin, 'am-admin', ['admin']);
    const requester = await createUser(q.admin, 'am-requester', ['requester']);
    const auditor = await createUser(q.admin, 'am-auditor', ['auditor']);
    Object.assign(callers, { admin: admin.http, security_lead: q.lead, operator: q.operators[0]!.http, requester: requester.http, auditor: auditor.http, service_account: q.automation, anonymous });
    // A second credential the operator caller holds no share of, usable only by the service account.
    const outsider = await createOperator(q.admin, 'am-outsider');
    const c2 = await q.lead.post('/api/v1/credentials', { name: 'am-other-key', kind: 'signing-key', secret: JSON.stringify((await generateSigningJwk()).privateJwk), custodians: [outsider.id], threshold: 1 });
    const serviceAccount = (await q.automation.get('/api/v1/me')).body.id as string;
    const p2 = await q.lead.post('/api/v1/policies', { name: 'am-other-policy', credentialId: c2.body.id, operations: [{ kind: 'sign' }], approvals: { min: 1 }, requesters: { serviceAccounts: [serviceAccount] } });
    expect([c2.status, p2.status]).toEqual([201, 201]);
    Object.assign(ids, { c1: q.credential.id, c2: c2.body.id, p1: q.policy.id, p2: p2.body.id, serviceAccount, requesterUser: requester.id, adminUser: admin.id });
    ids.r1 = await submit('requester', 'c1');
    ids.r2 = await submit('service_account', 'c2');
  });
  afterAll(() => gateway.close());

  async function submit(by: 'requester' | 'service_account', credential: 'c1' | 'c2'): Promise<string> {
    const res = await callers[by].post('/api/v1/requests', signRequestBody(ids[credential]));
    if (res.status !== 201) throw new Error(`submit: ${res.status} ${res.text}`);
    return res.body.id as string;
  }

  /**
   * Own: what concerns the caller (the request they submitted or hold a share for, the
   * credential and policy they may use, themselves). The service account's own request and
   * credential are the second ones; everyone else's are the first.
   */
  const mine = (caller: Caller, rel: 'own' | 'other') => (caller === 'service_account') === (rel === 'own') ? { c: ids.c2, p: ids.p2, r: ids.r2 } : { c: ids.c1, p: ids.p1, r: ids.r1 };

  let channels = 0;
  let policies = 0;
  async function call(route: string, caller: Caller, rel: 'own' | 'other'): Promise<{ status: number; text: string }> {
    const [method, template] = route.split(' ') as [string, string];
    const target = mine(caller, rel);
    let path = template;
    let body: unknown;
    let query = '';
    switch (route) {
      case 'PATCH /api/v1/users/:id':
        path = path.replace(':id', rel === 'own' ? ids.adminUser : ids.requesterUser);
        body = { disabled: false };
        break;
      case 'PUT /api/v1/users/:id/password':
        path = path.replace(':id', ids.requesterUser);
        body = {};
        break;
      case 'DELETE /api/v1/service-accounts/:id': {
        const account = await q.admin.post('/api/v1/service-accounts', { name: `am-gone-${caller.replace('_', '-')}-${rel}`, roles: ['requester'] });
        path = path.replace(':id', rel === 'own' && caller === 'service_account' ? ids.serviceAccount : account.body.id);
        break;
      }
      case 'GET /api/v1/credentials/:idOrName':
        path = path.replace(':idOrName', target.c);
        break;
      case 'GET /api/v1/policies/:id':
      case 'PATCH /api/v1/policies/:id':
        path = path.replace(':id', target.p);
        if (method === 'PATCH') body = { approvals: { min: 2 } };
        break;
      case 'DELETE /api/v1/policies/:id': {
        // A policy of its own for each call: a DELETE that works removes it.
        const policy = await q.lead.post('/api/v1/policies', { name: `am-gone-policy-${++policies}`, credentialId: ids.c1, operations: [{ kind: 'sign' }], approvals: { min: 2 } });
        if (policy.status !== 201) throw new Error(`policy: ${policy.status} ${policy.text}`);
        path = path.replace(':id', policy.body.id);
        break;
      }
      case 'GET /api/v1/credentials/:id/share':
      case 'GET /api/v1/credentials/:id/versions':
      case 'POST /api/v1/credentials/:id/intake-keys':
      case 'GET /api/v1/credentials/:id/health':
      case 'POST /api/v1/credentials/:id/check-ins':
        path = path.replace(':id', target.c);
        if (method === 'POST' && route.endsWith('/check-ins')) body = {};
        break;
      case 'DELETE /api/v1/notification-channels/:id':
      case 'GET /api/v1/notification-channels/:id':
      case 'PATCH /api/v1/notification-channels/:id':
      case 'GET /api/v1/notification-channels/:id/deliveries':
      case 'POST /api/v1/notification-channels/:id/test': {
        // A channel of its own for each call: a DELETE that works removes it.
        const channel = await q.admin.post('/api/v1/notification-channels', { name: `am-hook-${++channels}`, kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook' } });
        if (channel.status !== 201) throw new Error(`channel: ${channel.status} ${channel.text}`);
        path = path.replace(':id', channel.body.id);
        if (method === 'PATCH') body = { name: `am-hook-renamed-${channels}` };
        break;
      }
      case 'POST /api/v1/requests/:id/cancel':
        // A fresh pending request each time: a cancel that works ends it.
        path = path.replace(':id', (caller === 'service_account') === (rel === 'own') ? await submit('service_account', 'c2') : await submit('requester', 'c1'));
        break;
      case 'POST /api/v1/requests/:id/approvals':
        path = path.replace(':id', target.r);
        body = { decision: 'approve', statement: 'not.a-valid.statement-at-all', share: 'not-a-share-either-but-long-enough' };
        break;
      case 'GET /api/v1/requests/:id/wait':
        path = path.replace(':id', target.r);
        query = '?timeoutSeconds=0';
        break;
      default:
        path = path.replace(':id', target.r);
        // The rest send an empty body: past the role check it fails validation, which is still `ok` here.
        if (method !== 'GET' && method !== 'DELETE' && !['POST /api/v1/auth/logout', 'POST /api/v1/audit/checkpoints', 'POST /api/v1/requests/:id/cancel'].includes(route)) body = {};
    }
    const abort = new AbortController();
    const res = await fetch(gateway.url + path + query, {
      method,
      // Logout ends every session of its caller (spec: logout revokes): it is public, so it is called without a token.
      headers: { ...(callers[caller].token !== undefined && route !== 'POST /api/v1/auth/logout' ? { authorization: `Bearer ${callers[caller].token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: abort.signal,
    });
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
      abort.abort();
      return { status: res.status, text: '' };
    }
    return { status: res.status, text: await res.text() };
  }

  const outcome = (status: number): Outcome | string => (status === 401 || status === 403 || status === 404 ? (String(status) as Outcome) : status < 500 ? 'ok' : `error ${status}`);

  it('knows every route the gateway serves, and no route it does not', () => {
    expect(servedRoutes(gateway)).toEqual(Object.keys(EXPECTED).sort());
  });

  it('answers every route × caller × own/other resource as the table says', async () => {
    const observed: Record<string, Expected> = {};
    const mismatches: string[] = [];
    for (const route of servedRoutes(gateway)) {
      const expected = EXPECTED[route];
      const relations = expected === undefined || Array.isArray(expected) ? (['own'] as const) : (['own', 'other'] as const);
      const rows: Record<string, string[]> = {};
      for (const rel of relations) {
        rows[rel] = [];
        for (const [i, caller] of CALLERS.entries()) {
          const res = await call(route, caller, rel);
          const got = outcome(res.status);
          rows[rel].push(got);
          const want = expected === undefined ? undefined : Array.isArray(expected) ? expected[i] : expected[rel][i];
          if (got !== want) mismatches.push(`${route} as ${caller} (${rel}): expected ${want ?? 'a row in the table'}, got ${res.status} ${res.text.slice(0, 160)}`);
        }
      }
      observed[route] = (relations.length === 1 ? rows['own'] : rows) as Expected;
    }
    if (process.env['QG_MATRIX_PRINT']) console.log(JSON.stringify(observed, null, 0).replace(/\],"/g, '],\n"'));
    expect(mismatches).toEqual([]);
  });
});
