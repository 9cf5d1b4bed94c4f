import fc from 'fast-check';
import { operationsOf, sampleOf, jsonTypeOf, type ApiOperation, type OpenApiDocument } from './support/openapi.js';
import { Http } from './support/http.js';
import { createUser, setUpSigningQuorum, signRequestBody, type QuorumSetup } from './support/quorum.js';
import { testDatabaseKinds } from './support/test-databases.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

/**
 * Issue 15 item 4: no input gets a 5xx. For every operation of the OpenAPI document the
 * gateway serves and every kind of caller, fast-check generates malformed requests (NUL,
 * lone surrogates as `\ud800` escapes and as raw bytes, 1e400, 10,000-level nesting, huge
 * arrays, wrong types, missing and extra members, bad path parameters and query values,
 * wrong content types, broken JSON), at least 10,000 in all, and the test asserts: no 5xx;
 * every 4xx is problem+json with a `code`; nothing stored (every table of the gateway's
 * schema byte for byte, and the audit head); the gateway still ready.
 *
 * Not compared: the job queue's own schema (`pgboss`), whose maintenance runs on timers.
 * Paths stay under 8,000 characters: beyond Node's 16 KiB header limit the HTTP parser
 * answers 431 before the gateway sees the request.
 */
const TOTAL_REQUESTS = Number(process.env['QG_FUZZ_TOTAL'] ?? 10_000);
const CONCURRENCY = 8;
const SEED = Number(process.env['QG_FUZZ_SEED'] ?? 20261129);
const ROLES = ['admin', 'security_lead', 'operator', 'requester', 'auditor', 'service_account', 'anonymous'] as const;
type Caller = (typeof ROLES)[number];

interface Malformed {
  family: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');
/** Percent-encodes every byte, so any string (lone surrogates included, as U+FFFD) makes a valid URL. */
const percentEncode = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');
const nested = (levels: number, open: string, close: string, inner = '1') => open.repeat(levels) + inner + close.repeat(levels);
const PLACEHOLDER = '"__qg_placeholder__"';
const OVERSIZED = JSON.stringify({ padding: 'x'.repeat(1_100_000) });

const badPathParam = fc.oneof(
  fc.constantFrom('not-a-uuid', '%00', 'a%00b', '%ZZ', '%ED%A0%80', '%C0%AF', '%FF', '%2e%2e', '..%2F..%2Fetc', '0', '-1', '1e400', 'null', '%E2%80%AE', '00000000-0000-4000-8000-00000000000g'),
  fc.uuid().map((id) => id),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }).map(percentEncode),
  fc.integer({ min: 257, max: 7000 }).map((n) => 'a'.repeat(n)),
);
const badQueryValue = fc.oneof(
  fc.constantFrom('1e400', '-1', 'abc', '%00', '99999999999999999999999', '9007199254740993', 'NaN', '', 'true%00', '%ED%A0%80', '0x10', '1.5', ' 1', '[]', '{}'),
  fc.string({ unit: 'binary', maxLength: 40 }).map(percentEncode),
);
const junkAuthorization = fc.oneof(
  fc.constantFrom('Bearer ', 'Bearer a.b.c', 'Basic YWRtaW46YWRtaW4=', 'Bearer qgs_', 'Bearer eyJhbGciOiJub25lIn0.e30.', 'bearer', 'Token x'),
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789._-~+/='.split('')), maxLength: 600 }).map((s) => `Bearer ${s}`),
);
/** A value of another JSON type; for an optional member not null, which stands for the member left out. */
const wrongValueFor = (value: unknown, optional: boolean) =>
  fc
    .constantFrom<unknown>('text', 12345, -1.5, true, null, [], [1, 2], { a: 1 }, 'x'.repeat(5000))
    .filter((other) => jsonTypeOf(other) !== jsonTypeOf(value) && !(optional && other === null));

function bodyMutation(op: ApiOperation): fc.Arbitrary<{ family: string; text?: string; bytes?: Buffer; contentType?: string }> {
  const sample = (op.body !== undefined ? sampleOf(op.body) : {}) as Record<string, unknown>;
  const declared = Object.keys(op.body?.properties ?? {});
  const required = op.body?.required ?? [];
  const member = declared.length > 0 ? fc.constantFrom(...declared) : fc.constant('extra');
  const withMember = (name: string, raw: string) => JSON.stringify({ ...sample, [name]: '__qg_placeholder__' }).replace(PLACEHOLDER, raw);
  const common = fc.oneof(
    fc.constantFrom('{', '{"a":', '{"a":1,}', "{'a':1}", '{"a":undefined}', 'NaN', '{"a":1}x', '\u0000', 'null', '"x"', '1', 'true', '[]', '{"a":1e400', '\ufeff{}', '{"a":"\\x41"}').map((text) => ({ family: 'invalid JSON', text })),
    fc.tuple(member, fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([name, a, b]) => ({ family: 'NUL', text: JSON.stringify({ ...sample, [name]: `${a}\u0000${b}` }) })),
    fc.tuple(member, fc.constantFrom('\ud800', '\udfff', 'a\udc00b', '\ud83d')).map(([name, s]) => ({ family: 'lone surrogate (escape)', text: JSON.stringify({ ...sample, [name]: s }) })),
    fc.tuple(member, fc.constantFrom([0xed, 0xa0, 0x80], [0xff], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x28, 0xa1])).map(([name, raw]) => {
      const [before, after] = withMember(name, '"X"').split('"X"') as [string, string];
      return { family: 'invalid UTF-8 bytes', bytes: Buffer.concat([Buffer.from(before + '"'), Buffer.from(raw), Buffer.from('"' + after)]) };
    }),
    fc.tuple(member, fc.constantFrom('1e400', '-1e400', '1e309', '123456789012345678901234567890')).map(([name, n]) => ({ family: 'number out of range', text: withMember(name, n) })),
    fc.tuple(member, fc.constantFrom(['[', ']'], ['{"a":', '}'])).map(([name, [open, close]]) => ({ family: 'deep nesting', text: withMember(name, nested(10_000, open, close)) })),
    fc.constantFrom(['[', ']'], ['{"a":', '}']).map(([open, close]) => ({ family: 'deep nesting', text: nested(10_000, open, close) })),
    fc.tuple(member, fc.integer({ min: 1_000, max: 20_000 }), fc.constantFrom('0', '"x"', '{}', 'null')).map(([name, n, item]) => ({ family: 'huge array', text: withMember(name, `[${Array(n).fill(item).join(',')}]`) })),
    member.chain((name) => wrongValueFor(sample[name], !required.includes(name)).map((value) => ({ family: 'wrong type', text: JSON.stringify({ ...sample, [name]: value }) }))),
    (required.length > 0 ? fc.constantFrom(...required) : fc.constant(undefined)).map((name) => {
      const copy = { ...sample };
      if (name !== undefined) delete copy[name];
      return { family: 'missing member', text: JSON.stringify(name !== undefined ? copy : { ...sample, unread: 1 }) };
    }),
    fc.tuple(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'status', 'roles ', 'Username'), fc.string({ minLength: 1, maxLength: 30 }).map((s) => `x_${s}`)), fc.jsonValue({ maxDepth: 3 })).map(([name, value]) => ({
      family: 'extra member',
      text: withMember(name, JSON.stringify(value)),
    })),
    fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/jsonx', 'none').map((contentType) => ({
      family: 'wrong content type',
      text: JSON.stringify(sample),
      contentType,
    })),
  );
  // Rare, as each sends a megabyte: the limit answers 413.
  return fc.oneof({ arbitrary: common, weight: 80 }, { arbitrary: fc.constant({ family: 'body over 1 MiB', text: OVERSIZED }), weight: 1 });
}

function malformedFor(op: ApiOperation): fc.Arbitrary<Malformed> {
  const fillPath = (value: (name: string) => string) => op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => value(name));
  const validShapedPath = fillPath(() => '00000000-0000-4000-8000-00000000dead');
  const families: fc.Arbitrary<Malformed>[] = [
    fc.tuple(fc.constantFrom(...op.queryParams, 'unknown', 'limit'), badQueryValue, fc.constantFrom('plain', 'array', 'object', 'repeated')).map(([name, value, form]) => {
      const query = form === 'array' ? `${name}[]=${value}` : form === 'object' ? `${name}[a]=${value}` : form === 'repeated' ? `${name}=1&${name}=${value}` : `${name}=${value}`;
      return { family: 'bad query', path: `${validShapedPath}?${query}`, headers: {} };
    }),
  ];
  if (op.pathParams.length > 0) families.push(badPathParam.map((value) => ({ family: 'bad path parameter', path: fillPath(() => value), headers: {} })));
  if (op.method !== 'GET') {
    families.push(
      bodyMutation(op).map((m) => ({
        family: m.family,
        path: validShapedPath,
        headers: m.contentType === 'none' ? ({} as Record<string, string>) : { 'content-type': m.contentType ?? 'application/json' },
        body: m.bytes ?? utf8(m.text ?? ''),
      })),
    );
  }
  if (op.method === 'POST' && op.path === '/api/v1/requests') {
    families.push(fc.string({ unit: fc.constantFrom(...'ab;:/ \t*%?'.split('')), minLength: 0, maxLength: 200 }).map((key) => ({ family: 'bad Idempotency-Key', path: op.path, headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: utf8('{}') })));
  }
  return fc.oneof(...families);
}

describe.each(testDatabaseKinds())('hostile input never gets a 5xx (%s database)', (kind) => {
  let gateway: TestGateway;
  let q: QuorumSetup;
  const tokens: Partial<Record<Caller, string>> = {};

  beforeAll(async () => {
    // Warnings and errors only: a line per request would cost more than the requests.
    gateway = await startTestGateway(kind, { logLevel: 'warn' });
    const anonymous = new Http(gateway.url);
    q = await setUpSigningQuorum(anonymous, { prefix: 'hi' });
    const requester = await createUser(q.admin, 'hi-requester', ['requester']);
    const auditor = await createUser(q.admin, 'hi-auditor', ['auditor']);
    Object.assign(tokens, {
      admin: q.admin.token,
      security_lead: q.lead.token,
      operator: q.operators[0]!.http.token,
      requester: requester.http.token,
      auditor: auditor.http.token,
      service_account: q.serviceToken,
    });
    // Something of everything exists: a pending request, and the checkpoint an auditor may sign already signed.
    expect((await q.automation.post('/api/v1/requests', signRequestBody(q.credential.id))).status).toBe(201);
    expect((await auditor.http.post('/api/v1/audit/checkpoints')).status).toBe(201);
  });
  afterAll(() => gateway.close());

  async function snapshot(): Promise<Record<string, string>> {
    const db = gateway.ctx.dataSource;
    const tables: { name: string }[] = await db.query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`);
    const state: Record<string, string> = {};
    for (const { name } of tables) {
      const [row] = await db.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM "${name}" t`);
      state[name] = `${row.n} rows, md5 ${row.digest}`;
    }
    const [head] = await db.query(`SELECT max(seq)::text AS seq, (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS hash FROM audit_log`);
    state['audit head'] = `${head.seq} ${head.hash}`;
    return state;
  }

  it(`answers ${TOTAL_REQUESTS} malformed requests across every operation and caller with 4xx problem+json, storing nothing`, async () => {
    const doc = (await new Http(gateway.url).get<OpenApiDocument>('/api/docs-json')).body;
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThan(25);
    const perPair = Math.ceil(TOTAL_REQUESTS / (operations.length * ROLES.length));
    const cases: (Malformed & { caller: Caller; method: string })[] = [];
    const generationStarted = Date.now();
    operations.forEach((op, i) => {
      ROLES.forEach((caller, j) => {
        const arbitrary = caller === 'anonymous' ? fc.tuple(malformedFor(op), fc.option(junkAuthorization)).map(([m, auth]) => (auth === null ? m : { ...m, headers: { ...m.headers, authorization: auth } })) : malformedFor(op);
        for (const m of fc.sample(arbitrary, { numRuns: perPair, seed: SEED + i * 100 + j })) cases.push({ ...m, caller, method: op.method });
      });
    });
    expect(cases.length).toBeGreaterThanOrEqual(TOTAL_REQUESTS);
    if (process.env['QG_FUZZ_TIMING']) console.log('generated in', Date.now() - generationStarted, 'ms');

    type Sent = { kind: 'answer'; status: number; type: string; text: string } | { kind: 'stream'; status: number } | { kind: 'reset' } | { kind: 'none'; error: string };
    const send = async (c: Malformed & { method: string }, headers: Record<string, string>): Promise<Sent> => {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 15_000);
      try {
        const res = await fetch(gateway.url + c.path, { method: c.method, headers, body: c.body === undefined ? undefined : new Uint8Array(c.body), signal: abort.signal });
        const type = res.headers.get('content-type') ?? '';
        // A stream (GET /api/v1/events) answered: its headers are all this test reads.
        if (type.startsWith('text/event-stream')) {
          abort.abort();
          return { kind: 'stream', status: res.status };
        }
        return { kind: 'answer', status: res.status, type, text: await res.text() };
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        if (!abort.signal.aborted && (cause === 'UND_ERR_SOCKET' || cause === 'ECONNRESET' || cause === 'EPIPE')) return { kind: 'reset' };
        return { kind: 'none', error: `${String(error)} (${cause ?? 'no cause'})` };
      } finally {
        clearTimeout(timer);
      }
    };
    const check = (what: string, sent: Sent, family: string) => {
      switch (sent.kind) {
        case 'none':
        case 'reset':
          failures.push(`${what} → no answer within 15 s: ${sent.kind === 'none' ? sent.error : 'connection reset twice'}`);
          return;
        case 'stream':
          if (family !== 'bad query') failures.push(`${what} → ${sent.status}: a stream, accepted`);
          return;
        case 'answer':
          if (sent.status >= 500) failures.push(`${what} → ${sent.status} ${sent.text.slice(0, 200)}`);
          // Every generated body, path parameter and header is wrong by construction: only a query the route does not read may pass.
          else if (sent.status < 400 && family !== 'bad query') failures.push(`${what} → ${sent.status}: accepted`);
          else if (sent.status >= 400) {
            let code: unknown;
            try {
              code = (JSON.parse(sent.text) as { code?: unknown }).code;
            } catch {
              code = undefined;
            }
            if (!sent.type.startsWith('application/problem+json') || typeof code !== 'string') failures.push(`${what} → ${sent.status} ${sent.type} without a code: ${sent.text.slice(0, 200)}`);
          }
      }
    };
    let resets = 0;

    const before = await snapshot();
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < cases.length; i = next++) {
        const c = cases[i]!;
        // Logout is public and ends every session of whoever calls it with a token: sent without one, it changes nothing.
        const token = c.caller === 'anonymous' || c.path.startsWith('/api/v1/auth/logout') ? undefined : tokens[c.caller];
        const headers = { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...c.headers };
        const what = `${c.caller} ${c.method} ${c.path.slice(0, 120)} [${c.family}]`;
        const outcome = await send(c, headers);
        if (outcome.kind === 'reset') {
          // The server closed a kept-alive connection as the client reused it (a race of the transport,
          // not an answer): the request is sent again once, on a fresh connection.
          resets++;
          const again = await send(c, headers);
          check(what, again, c.family);
        } else check(what, outcome, c.family);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(failures.slice(0, 30)).toEqual([]);
    // A handful of resets under load is the transport; many would be the gateway dropping connections.
    expect(resets).toBeLessThan(TOTAL_REQUESTS / 100);
    const after = await snapshot();
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      // Say what changed, not only that something did.
      const added: { action: string; actor: string; data: unknown }[] = await gateway.ctx.dataSource.query(`SELECT action, actor, data FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5`, [Number(before['audit head']!.split(' ')[0])]);
      expect({ after, added }).toEqual({ after: before, added: [] });
    }
    expect((await new Http(gateway.url).get('/readyz')).status).toBe(200);
    expect(gateway.logs.filter((line) => line.includes('"msg":"request failed"'))).toEqual([]);
  }, 600_000);
});
