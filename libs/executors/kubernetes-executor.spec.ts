import { startFakeKubeApi, type FakeKubeApi } from '../../test/support/peers/kube-api-server.js';
import { EXEC_OUTPUT_LIMIT, executorFor, runWithTimeout, validateCredentialSecret } from './index.js';
import { executorRejection } from './executor-rejection.testing.js';

const TOKEN = 'qg-kube-token-5d1e8a0c7b394f26';
const executor = executorFor('kubernetes.exec');
const params = (command: string[], extra: Record<string, unknown> = {}) => ({ namespace: 'prod-eu', pod: 'api-0', container: 'app', command, ...extra });


let api: FakeKubeApi;

beforeAll(async () => {
  api = await startFakeKubeApi(TOKEN);
});
afterAll(() => api.close());

function run(kubeconfig: string, p: Record<string, unknown>, config: Record<string, unknown> = {}, timeoutMs = 10_000, signal?: AbortSignal) {
  return runWithTimeout(executor, { secret: Buffer.from(kubeconfig), config, params: p, ...(signal ? { signal } : {}) }, timeoutMs);
}

describe('kubernetes.exec against a fake API server', () => {
  it('runs the command with the bearer token over v5 and returns stdout, stderr and exit code 0', async () => {
    const result = await run(api.kubeconfig(), params(['cat', '/etc/hostname']));
    expect(result).toEqual({ stdout: 'cat /etc/hostname\n', stderr: 'ran in prod-eu/api-0/app\n', exitCode: 0 });
    expect(api.execs.at(-1)).toMatchObject({ namespace: 'prod-eu', pod: 'api-0', container: 'app', command: ['cat', '/etc/hostname'], protocol: 'v5.channel.k8s.io', identity: 'token' });
  });

  it('returns a non-zero exit code as a result, and arguments travel as a vector', async () => {
    const command = ['sh', '-c', 'echo "a b"; exit 3', '--exit=3', 'ü &x=1#frag'];
    const result = await run(api.kubeconfig(), params(command, { container: undefined }));
    expect(result).toEqual({ stdout: `${command.join(' ')}\n`, stderr: 'ran in prod-eu/api-0\n', exitCode: 3 });
    expect(api.execs.at(-1)?.command).toEqual(command);
    expect(api.execs.at(-1)?.container).toBeNull();
  });

  it('speaks v4 with an API server that does not offer v5', async () => {
    api.onlyV4 = true;
    try {
      const result = await run(api.kubeconfig(), params(['id', '--exit=1']));
      expect(result.exitCode).toBe(1);
      expect(api.execs.at(-1)?.protocol).toBe('v4.channel.k8s.io');
    } finally {
      api.onlyV4 = false;
    }
  });

  it('authenticates with a client certificate', async () => {
    const result = await run(api.kubeconfig({ clientCertificate: true }), params(['whoami']));
    expect(result.exitCode).toBe(0);
    expect(api.execs.at(-1)?.identity).toBe('cert:qg-test-user');
  });

  it('picks the context named in config', async () => {
    const kubeconfig = api.kubeconfig({ context: 'other' }).replace('current-context: other', 'current-context: missing-context');
    await expect(run(kubeconfig, params(['true']))).rejects.toMatchObject({ code: 'SECRET_INVALID' });
    expect((await run(kubeconfig, params(['true']), { context: 'other' })).exitCode).toBe(0);
  });

  it('fails closed on a wrong token (401), without echoing it', async () => {
    const before = api.execs.length;
    const error = await executorRejection(run(api.kubeconfig({ token: 'qg-wrong-token-000000000000' }), params(['id'])));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toMatch(/refused the credentials \(HTTP 401/);
    expect(error.message).not.toContain('qg-wrong-token');
    expect(api.execs.length).toBe(before);
    expect(api.refused.at(-1)?.status).toBe(401);
  });

  it('reports 403 and 404 with the API server message', async () => {
    expect((await executorRejection(run(api.kubeconfig(), params(['id'], { namespace: 'forbidden' })))).message).toMatch(/forbids this exec \(HTTP 403.*cannot create resource "pods\/exec"/);
    expect((await executorRejection(run(api.kubeconfig(), params(['id'], { pod: 'missing' })))).message).toMatch(/HTTP 404.*pods "missing" not found/);
  });

  it('reports a failure without exit code (no such executable) as UPSTREAM_FAILED', async () => {
    const error = await executorRejection(run(api.kubeconfig(), params(['no-such-binary'])));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toMatch(/executable file not found/);
  });

  it('refuses a server whose certificate is not signed by the kubeconfig CA', async () => {
    const before = api.execs.length;
    const error = await executorRejection(run(api.kubeconfig({ ca: api.pki.otherCa }), params(['id'])));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN/);
    expect(api.execs.length).toBe(before);
  });

  it('cuts stdout at 64 KiB and marks it truncated', async () => {
    const result = await run(api.kubeconfig(), params(['flood', '100000']));
    expect(result.truncated).toBe(true);
    expect(result.stdout).toBe('x'.repeat(EXEC_OUTPUT_LIMIT));
    expect(result.exitCode).toBe(0);
  });

  it('times out (TIMEOUT) and closes the WebSocket', async () => {
    const started = Date.now();
    const error = await executorRejection(run(api.kubeconfig(), params(['sleep']), {}, 300));
    expect(error.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
    await api.execs.at(-1)?.closed;
  });

  it('stops when the caller aborts (ABORTED)', async () => {
    const controller = new AbortController();
    const pending = run(api.kubeconfig(), params(['sleep']), {}, 10_000, controller.signal);
    setTimeout(() => controller.abort(), 200);
    expect((await executorRejection(pending)).code).toBe('ABORTED');
    await api.execs.at(-1)?.closed;
  });
});

describe('kubeconfig as a credential secret', () => {
  const check = (kubeconfig: string, config: Record<string, unknown> = {}) => validateCredentialSecret('kubeconfig', Buffer.from(kubeconfig), config);

  it('publishes the context, server and kind of authentication, nothing secret', async () => {
    const { publicInfo } = await check(api.kubeconfig());
    expect(publicInfo).toEqual({ context: 'fake', server: `${api.server}/`, auth: 'token' });
    expect((await check(api.kubeconfig({ clientCertificate: true }))).publicInfo.auth).toBe('client-certificate');
  });

  it('accepts a kubeconfig written as JSON', async () => {
    const json = JSON.stringify({
      'current-context': 'fake',
      clusters: [{ name: 'c', cluster: { server: api.server, 'certificate-authority-data': Buffer.from(api.pki.ca).toString('base64') } }],
      contexts: [{ name: 'fake', context: { cluster: 'c', user: 'u' } }],
      users: [{ name: 'u', user: { token: TOKEN } }],
    });
    expect((await check(json)).publicInfo).toEqual({ context: 'fake', server: `${api.server}/`, auth: 'token' });
  });

  const swap = (from: string | RegExp, to: string) => () => api.kubeconfig().replace(from, to);
  const cases: [string, () => string][] = [
    ['an exec plugin', swap(/  user:\n/, '  user:\n    exec:\n      command: /bin/steal\n')],
    ['an auth-provider', swap(/  user:\n/, '  user:\n    auth-provider:\n      name: gcp\n')],
    ['a tokenFile', swap(`    token: ${TOKEN}`, '    tokenFile: /etc/shadow')],
    ['a client-key file path', swap(`    token: ${TOKEN}`, '    client-certificate: /tmp/c.pem\n    client-key: /tmp/k.pem')],
    ['basic auth', swap(`    token: ${TOKEN}`, `    username: admin\n    password: ${TOKEN}`)],
    ['impersonation', swap(/  user:\n/, '  user:\n    as: system:admin\n')],
    ['insecure-skip-tls-verify', swap('  cluster:\n', '  cluster:\n    insecure-skip-tls-verify: true\n')],
    ['a certificate-authority file', swap('  cluster:\n', '  cluster:\n    certificate-authority: /etc/ca.pem\n')],
    ['a proxy-url', swap('  cluster:\n', '  cluster:\n    proxy-url: http://proxy.evil:3128\n')],
    ['an http server', swap(/server: https:/, 'server: http:')],
    ['a server with user info', swap(/server: https:\/\//, 'server: https://u:p@')],
    ['a missing current-context', swap('current-context: fake', 'current-context: nope')],
    ['no context at all', swap('current-context: fake', '')],
    ['a token with a space', swap(`    token: ${TOKEN}`, `    token: "${TOKEN} x"`)],
    ['a token and a client certificate', swap(`    token: ${TOKEN}`, `    token: ${TOKEN}\n    client-certificate-data: ${Buffer.from('x').toString('base64')}`)],
    ['certificate-authority-data that is not a certificate', swap(/certificate-authority-data: \S+/, `certificate-authority-data: ${Buffer.from('not a cert').toString('base64')}`)],
    ['a user without credentials', swap(`    token: ${TOKEN}`, '    {}')],
    ['YAML that does not parse', () => `users: [\n  token: ${TOKEN}\n  : :`],
    ['a YAML list', () => `- ${TOKEN}`],
    ['a JavaScript tag', () => `current-context: !!js/function "${TOKEN}"`],
    ['an empty secret', () => ''],
  ];

  it.each(cases)('refuses %s with SECRET_INVALID, without echoing the token', async (_name, make) => {
    const error = await executorRejection(check(make()));
    expect(error.code).toBe('SECRET_INVALID');
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain('steal');
  });

  it('refuses a client key that does not belong to the client certificate', async () => {
    const other = (await import('../../test/support/peers/tls.js')).makeTestPki();
    const kubeconfig = api.kubeconfig({ clientCertificate: true }).replace(/client-key-data: \S+/, `client-key-data: ${Buffer.from(other.client.key).toString('base64')}`);
    const error = await executorRejection(check(kubeconfig));
    expect(error.message).toMatch(/does not belong to its client certificate/);
  });

  it('refuses invalid UTF-8', async () => {
    const error = await executorRejection(validateCredentialSecret('kubeconfig', Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe]), {}));
    expect(error.code).toBe('SECRET_INVALID');
  });
});

describe('kubernetes.exec params and config', () => {
  const valid = { namespace: 'prod-eu', pod: 'api-7d9f-x2.v1', container: 'app', command: ['ls', '-la', ''] };

  it('accepts valid params and returns them unchanged', () => {
    expect(executor.validateParams(valid)).toEqual(valid);
    const { container: _c, ...withoutContainer } = valid;
    expect(executor.validateParams(withoutContainer)).toEqual(withoutContainer);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a namespace with a slash', { ...valid, namespace: 'prod/../kube-system' }],
    ['an upper-case namespace', { ...valid, namespace: 'Prod' }],
    ['a namespace of 64 characters', { ...valid, namespace: 'a'.repeat(64) }],
    ['a pod with an encoded slash', { ...valid, pod: 'api%2F0' }],
    ['a pod with a query', { ...valid, pod: 'api-0?command=sh' }],
    ['a container with a dot', { ...valid, container: 'app.v1' }],
    ['a string command (shell line)', { ...valid, command: 'ls -la' }],
    ['an empty command', { ...valid, command: [] }],
    ['an empty program name', { ...valid, command: ['', 'x'] }],
    ['a non-string argument', { ...valid, command: ['ls', 1] }],
    ['a NUL in an argument', { ...valid, command: ['ls', 'a\u0000b'] }],
    ['257 arguments', { ...valid, command: Array.from({ length: 257 }, () => 'x') }],
    ['more than 16 KiB in all', { ...valid, command: Array.from({ length: 5 }, () => 'x'.repeat(4000)) }],
    ['an unknown member', { ...valid, tty: true }],
    ['no namespace', { pod: 'a', command: ['ls'] }],
  ])('refuses %s (PARAMS_INVALID)', (_name, p) => {
    expect(() => executor.validateParams(p)).toThrow(expect.objectContaining({ code: 'PARAMS_INVALID' }));
  });

  it('checks config', () => {
    expect(executor.validateConfig({})).toEqual({});
    expect(executor.validateConfig(undefined)).toEqual({});
    expect(executor.validateConfig({ context: 'prod' })).toEqual({ context: 'prod' });
    for (const bad of [{ context: '' }, { context: 7 }, { context: 'a\nb' }, { server: 'https://x' }, 'prod']) {
      expect(() => executor.validateConfig(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });

  it('refuses bad params at execution without contacting the API server', async () => {
    const before = api.execs.length + api.refused.length;
    await expect(run(api.kubeconfig(), { ...valid, namespace: '../x' })).rejects.toMatchObject({ code: 'PARAMS_INVALID' });
    expect(api.execs.length + api.refused.length).toBe(before);
  });
});
