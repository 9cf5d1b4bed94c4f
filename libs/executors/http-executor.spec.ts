import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeTestPki, type TestPki } from '../../test/support/peers/tls.js';
import { executorFor, HTTP_BODY_LIMIT, runWithTimeout, type Executor } from './index.js';
import { executorRejection } from './executor-rejection.testing.js';

const TOKEN = 'qg-test-token-7f3a9c1e5b2d4f60';
const secret = (): Buffer => Buffer.from(TOKEN);
const executor = executorFor('http');

/** What the upstream saw, so tests can assert on it. */
const seen = { stolen: 0, slowClosed: [] as Promise<void>[], lastRequest: undefined as undefined | { method?: string; url?: string; headers: IncomingMessage['headers']; body: string } };

function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
  const authorized = req.headers.authorization === `Bearer ${TOKEN}` || req.headers['x-api-key'] === TOKEN;
  const path = new URL(req.url ?? '/', 'https://upstream').pathname;
  if (path === '/api/stolen') {
    seen.stolen += 1;
    res.writeHead(200).end('stolen');
    return;
  }
  if (path === '/api/slow') {
    seen.slowClosed.push(new Promise((resolve) => req.on('close', () => resolve())));
    return;
  }
  if (!authorized) {
    res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized');
    return;
  }
  seen.lastRequest = { method: req.method, url: req.url, headers: req.headers, body };
  switch (path) {
    case '/api/echo':
      res.writeHead(200, { 'content-type': 'application/json', 'Set-Cookie': ['session=abc', 'other=def'], 'X-Upstream': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body }));
      return;
    case '/api/echo-token':
      res.writeHead(200, { 'x-seen-authorization': req.headers.authorization ?? '' });
      res.end(`you sent ${req.headers.authorization ?? ''} and ${TOKEN}`);
      return;
    case '/api/redirect':
      res.writeHead(302, { location: `${req.headers.host === undefined ? '' : `https://${req.headers.host}`}/api/stolen` }).end();
      return;
    case '/api/big':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('a'.repeat(100 * 1024));
      return;
    case '/api/big-token-at-cut':
      res.writeHead(200);
      res.end('b'.repeat(HTTP_BODY_LIMIT - 5) + TOKEN + 'c'.repeat(1000));
      return;
    default:
      res.writeHead(404).end('not found');
  }
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}


let certs: TestPki;
let tlsServer: https.Server;
let plainServer: http.Server;
let baseUrl: string;
let plainBaseUrl: string;

beforeAll(async () => {
  certs = makeTestPki();
  tlsServer = https.createServer(certs.server, handler);
  plainServer = http.createServer(handler);
  baseUrl = `https://127.0.0.1:${await listen(tlsServer)}/api`;
  plainBaseUrl = `http://127.0.0.1:${await listen(plainServer)}/api/`;
});

afterAll(async () => {
  await Promise.all([close(tlsServer), close(plainServer)]);
});

function call(params: Record<string, unknown>, config: Record<string, unknown> = {}, token: Buffer = secret(), timeoutMs = 10_000) {
  return runWithTimeout(executor, { secret: token, config: { baseUrl, caCertificate: certs.ca, ...config }, params }, timeoutMs);
}

describe('http executor against a local HTTPS server', () => {
  it('sends the token and returns status, lower-cased headers without set-cookie, and the body', async () => {
    const result = await call({ method: 'POST', path: '/echo?dry=1', headers: { 'X-Trace': 't-1' }, body: { rotate: 'db' } });
    expect(result.status).toBe(200);
    expect(result.truncated).toBeUndefined();
    const headers = result.headers as Record<string, string>;
    expect(headers['x-upstream']).toBe('yes');
    expect(headers).not.toHaveProperty('set-cookie');
    for (const name of Object.keys(headers)) expect(name).toBe(name.toLowerCase());
    expect(JSON.parse(result.body as string)).toEqual({ method: 'POST', url: '/api/echo?dry=1', body: '{"rotate":"db"}' });
    expect(seen.lastRequest?.headers['content-type']).toBe('application/json');
    expect(seen.lastRequest?.headers['x-trace']).toBe('t-1');
  });

  it('gets 401 with a wrong token', async () => {
    const result = await call({ method: 'GET', path: '/echo' }, {}, Buffer.from('wrong-token-0000'));
    expect(result.status).toBe(401);
  });

  it('uses a custom header and no scheme', async () => {
    const result = await call({ method: 'GET', path: '/echo' }, { header: 'X-Api-Key', scheme: '' });
    expect(result.status).toBe(200);
    expect(seen.lastRequest?.headers.authorization).toBeUndefined();
  });

  it('answers HEAD without a body', async () => {
    const result = await call({ method: 'HEAD', path: '/echo' });
    expect(result).toMatchObject({ status: 200, body: '' });
  });

  it.each([
    ['without caCertificate (default roots)', () => ({ baseUrl })],
    ['with another CA', () => ({ baseUrl, caCertificate: certs.otherCa })],
  ])('fails TLS verification %s (UPSTREAM_FAILED)', async (_name, config) => {
    const error = await executorRejection(runWithTimeout(executor, { secret: secret(), config: config(), params: { method: 'GET', path: '/echo' } }, 10_000));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    expect(error.message).not.toContain(TOKEN);
  });

  it('returns a redirect as is and does not follow it', async () => {
    const before = seen.stolen;
    const result = await call({ method: 'GET', path: '/redirect' });
    expect(result.status).toBe(302);
    expect((result.headers as Record<string, string>).location).toMatch(/\/api\/stolen$/);
    expect(seen.stolen).toBe(before);
  });

  it('cuts a body over 64 KiB and marks it truncated', async () => {
    const result = await call({ method: 'GET', path: '/big' });
    expect(result.status).toBe(200);
    expect(result.truncated).toBe(true);
    expect(result.body).toBe('a'.repeat(HTTP_BODY_LIMIT));
  });

  it('redacts the token where the upstream echoes it, even across the cut', async () => {
    const echoed = await call({ method: 'GET', path: '/echo-token' });
    expect(JSON.stringify(echoed)).not.toContain(TOKEN);
    expect(echoed.body).toBe('you sent Bearer [REDACTED] and [REDACTED]');
    const atCut = await call({ method: 'GET', path: '/big-token-at-cut' });
    expect(atCut.truncated).toBe(true);
    expect(atCut.body as string).not.toContain(TOKEN.slice(0, 5));
    expect((atCut.body as string).length).toBeLessThanOrEqual(HTTP_BODY_LIMIT);
  });

  it('rejects with TIMEOUT when the server is slow, and closes the connection', async () => {
    const started = Date.now();
    const error = await executorRejection(call({ method: 'GET', path: '/slow' }, {}, secret(), 300));
    expect(error.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
    await seen.slowClosed.at(-1);
  });

  it('stops when the caller aborts (ABORTED)', async () => {
    const controller = new AbortController();
    const pending = runWithTimeout(executor, { secret: secret(), config: { baseUrl, caCertificate: certs.ca }, params: { method: 'GET', path: '/slow' }, signal: controller.signal }, 10_000);
    setTimeout(() => controller.abort(), 100);
    expect((await executorRejection(pending)).code).toBe('ABORTED');
  });

  it('reports a refused connection as UPSTREAM_FAILED', async () => {
    const server = http.createServer();
    const port = await listen(server);
    await close(server);
    const error = await executorRejection(call({ method: 'GET', path: '/' }, { baseUrl: `http://127.0.0.1:${port}` }));
    expect(error.code).toBe('UPSTREAM_FAILED');
  });
});

describe('http executor over plain http on loopback', () => {
  it('joins the base path and the request path', async () => {
    const result = await runWithTimeout(executor, { secret: secret(), config: { baseUrl: plainBaseUrl }, params: { method: 'DELETE', path: '/echo', body: 'raw text' } }, 10_000);
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body as string)).toEqual({ method: 'DELETE', url: '/api/echo', body: 'raw text' });
  });
});

describe('runWithTimeout', () => {
  it('rejects with TIMEOUT even when an executor ignores the signal', async () => {
    const deaf: Executor = { ...executor, execute: () => new Promise(() => undefined) };
    const error = await executorRejection(runWithTimeout(deaf, { secret: secret(), config: {}, params: {} }, 50));
    expect(error.code).toBe('TIMEOUT');
  });

  it('refuses a timeout that is not a positive integer', async () => {
    await expect(runWithTimeout(executor, { secret: secret(), config: {}, params: {} }, 0)).rejects.toThrow(TypeError);
  });
});

describe('http params and config', () => {
  const valid = { method: 'GET', path: '/admin/rotate/db' };

  it('accepts valid params and returns them unchanged', () => {
    const params = { method: 'PATCH', path: '/v1/users/42?fields=a,b', headers: { 'X-Request-Id': 'r1' }, body: { a: 1 } };
    expect(executor.validateParams(params)).toEqual(params);
    expect(executor.validateParams(valid)).toEqual(valid);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a ".." segment', { ...valid, path: '/admin/../secrets' }],
    ['a trailing ".."', { ...valid, path: '/admin/..' }],
    ['an encoded ".." segment', { ...valid, path: '/admin/%2e%2e/secrets' }],
    ['a mixed-encoded ".." segment', { ...valid, path: '/admin/.%2E/secrets' }],
    ['a "." segment', { ...valid, path: '/./admin' }],
    ['an absolute URL', { ...valid, path: 'https://evil.example/steal' }],
    ['a scheme-relative URL', { ...valid, path: '//evil.example/steal' }],
    ['a relative path', { ...valid, path: 'admin' }],
    ['a backslash', { ...valid, path: '/admin\\..\\secrets' }],
    ['an encoded slash', { ...valid, path: '/admin%2f..%2fsecrets' }],
    ['a space', { ...valid, path: '/admin rotate' }],
    ['a fragment', { ...valid, path: '/admin#x' }],
    ['a bad escape', { ...valid, path: '/admin%zz' }],
    ['an encoded NUL', { ...valid, path: '/admin%00' }],
    ['an empty query', { ...valid, path: '/admin?' }],
    ['Authorization in headers', { ...valid, headers: { Authorization: 'Bearer mine' } }],
    ['authorization in lower case', { ...valid, headers: { authorization: 'Bearer mine' } }],
    ['Host in headers', { ...valid, headers: { Host: 'evil.example' } }],
    ['Transfer-Encoding in headers', { ...valid, headers: { 'Transfer-Encoding': 'chunked' } }],
    ['Connection in headers', { ...valid, headers: { Connection: 'close' } }],
    ['Proxy-Authorization in headers', { ...valid, headers: { 'Proxy-Authorization': 'x' } }],
    ['Content-Length in headers', { ...valid, headers: { 'Content-Length': '1' } }],
    ['a CR LF in a header value', { ...valid, headers: { 'X-A': 'a\r\nX-B: b' } }],
    ['a header name with a space', { ...valid, headers: { 'X A': 'a' } }],
    ['a header twice', { ...valid, headers: { 'X-A': 'a', 'x-a': 'b' } }],
    ['a non-string header value', { ...valid, headers: { 'X-A': 1 } }],
    ['an unknown method', { ...valid, method: 'TRACE' }],
    ['a lower-case method', { ...valid, method: 'get' }],
    ['CONNECT', { ...valid, method: 'CONNECT' }],
    ['a body with GET', { ...valid, body: 'x' }],
    ['a numeric body', { method: 'POST', path: '/x', body: 5 }],
    ['an unknown member', { ...valid, url: 'https://evil.example' }],
  ])('refuses %s (PARAMS_INVALID)', (_name, params) => {
    expect(() => executor.validateParams(params)).toThrow(expect.objectContaining({ code: 'PARAMS_INVALID' }));
  });

  it.each<[string, string, RegExp]>([
    ['a ";" path parameter', '/admin;jsessionid=x/rotate', /must not contain ";" in its path part/],
    ['a ";" hiding a ".." (Tomcat reads /admin/..;/users as /users)', '/admin/..;/users', /";"|\.\./],
    ['an encoded ";"', '/admin%3Bx/rotate', /must not contain ";"/],
    ['a segment starting with ".."', '/admin/..x/rotate', /segment starting with "\.\."/],
    ['a segment "..." ', '/admin/.../rotate', /segment starting with "\.\."/],
    ['an encoded segment starting with ".."', '/admin/%2E%2Efoo', /segment starting with "\.\."/],
  ])('refuses %s with a clear message', (_name, path, message) => {
    expect(() => executor.validateParams({ ...valid, path })).toThrow(expect.objectContaining({ code: 'PARAMS_INVALID', message: expect.stringMatching(message) }));
  });

  it('keeps ";" and dots allowed where they are harmless', () => {
    for (const path of ['/v1/files/a..b', '/v1/files/.hidden', '/v1/search?q=a;b']) expect(executor.validateParams({ ...valid, path })).toEqual({ ...valid, path });
  });

  it('refuses the credential header when the config is known, and again at execution', async () => {
    const config = { baseUrl, header: 'X-Api-Key', scheme: '' };
    const params = { ...valid, headers: { 'x-api-key': 'mine' } };
    expect(executor.validateParams(params)).toEqual(params);
    expect(() => executor.validateParams(params, config)).toThrow(expect.objectContaining({ code: 'PARAMS_INVALID' }));
    expect((await executorRejection(call(params, config))).code).toBe('PARAMS_INVALID');
  });

  it('refuses bad params at execution without contacting the upstream', async () => {
    const before = seen.lastRequest;
    expect((await executorRejection(call({ method: 'GET', path: '/../echo' }))).code).toBe('PARAMS_INVALID');
    expect(seen.lastRequest).toBe(before);
  });

  it('fills config defaults', () => {
    expect(executor.validateConfig({ baseUrl: 'https://admin.internal' })).toEqual({ baseUrl: 'https://admin.internal', header: 'Authorization', scheme: 'Bearer' });
    expect(executor.validateConfig({ baseUrl: 'http://[::1]:8080/x', scheme: '' })).toMatchObject({ scheme: '' });
    expect(executor.validateConfig({ baseUrl: 'http://localhost:8080' })).toMatchObject({ header: 'Authorization' });
  });

  it.each<[string, Record<string, unknown>]>([
    ['http to a non-loopback host', { baseUrl: 'http://admin.internal' }],
    ['http to a host that starts like loopback', { baseUrl: 'http://127.0.0.1.evil.example' }],
    ['another scheme', { baseUrl: 'ftp://127.0.0.1' }],
    ['not a URL', { baseUrl: 'admin.internal' }],
    ['user info', { baseUrl: 'https://user:pw@admin.internal' }],
    ['a query', { baseUrl: 'https://admin.internal/?a=1' }],
    ['a fragment', { baseUrl: 'https://admin.internal/#x' }],
    ['no baseUrl', {}],
    ['a Host credential header', { baseUrl: 'https://a.internal', header: 'Host' }],
    ['a header name with a space', { baseUrl: 'https://a.internal', header: 'X Key' }],
    ['a scheme with a space', { baseUrl: 'https://a.internal', scheme: 'Bear er' }],
    ['a caCertificate that is not PEM', { baseUrl: 'https://a.internal', caCertificate: 'not a certificate' }],
    ['a caCertificate that does not parse', { baseUrl: 'https://a.internal', caCertificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }],
    ['an unknown member', { baseUrl: 'https://a.internal', followRedirects: true }],
  ])('refuses config with %s (CONFIG_INVALID)', (_name, config) => {
    expect(() => executor.validateConfig(config)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('accepts the test CA as caCertificate', () => {
    expect(executor.validateConfig({ baseUrl, caCertificate: certs.ca })).toMatchObject({ caCertificate: certs.ca });
  });
});
