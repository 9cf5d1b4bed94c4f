import { acceptedKeys, generateSshKeyPair, sshdAvailable, startSshd, type TestSshd } from '../../test/support/peers/sshd.js';
import { EXEC_OUTPUT_LIMIT, executorFor, runWithTimeout, sshFingerprint, validateCredentialSecret } from './index.js';
import { executorRejection } from './executor-rejection.testing.js';

const executor = executorFor('ssh.exec');


async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const client = generateSshKeyPair('ed25519');
const stranger = generateSshKeyPair('ed25519');
const FINGERPRINT = 'SHA256:5G+zGGBVOaNv4T5kolCS92TD/cesfBuQVUmGzFAsihw';

describe('ssh-key as a credential secret', () => {
  it.each([
    ['an OpenSSH Ed25519 key', () => generateSshKeyPair('ed25519'), 'ssh-ed25519'],
    ['a PEM ECDSA key', () => generateSshKeyPair('ecdsa', { pem: true }), 'ecdsa-sha2-nistp256'],
    ['an OpenSSH RSA key', () => generateSshKeyPair('rsa'), 'ssh-rsa'],
  ])('publishes the public key and fingerprint of %s', async (_name, make, type) => {
    const pair = make();
    const { publicInfo } = await validateCredentialSecret('ssh-key', Buffer.from(pair.privateKey), {});
    expect(publicInfo.publicKey).toBe(pair.publicKey.split(' ').slice(0, 2).join(' '));
    expect(String(publicInfo.publicKey).startsWith(`${type} `)).toBe(true);
    expect(publicInfo.fingerprint).toBe(sshFingerprint(Buffer.from(pair.publicKey.split(' ')[1] as string, 'base64')));
    expect(JSON.stringify(publicInfo)).not.toContain('PRIVATE');
  });

  it.each<[string, () => string]>([
    ['an encrypted key', () => generateSshKeyPair('ed25519', { passphrase: 'correct horse' }).privateKey],
    ['a public key', () => client.publicKey],
    ['text that is not a key', () => 'not a key at all'],
    ['a truncated key', () => client.privateKey.slice(0, 200)],
    ['a corrupted key body', () => client.privateKey.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA')],
    ['an empty secret', () => ''],
  ])('refuses %s with SECRET_INVALID, without echoing it', async (_name, make) => {
    const secret = make();
    const error = await executorRejection(validateCredentialSecret('ssh-key', Buffer.from(secret), {}));
    expect(error.code).toBe('SECRET_INVALID');
    const body = client.privateKey.split('\n')[1] ?? '';
    expect(error.message).not.toContain(body.slice(0, 16));
  });

  it('says why an encrypted key is refused', async () => {
    const error = await executorRejection(validateCredentialSecret('ssh-key', Buffer.from(generateSshKeyPair('ed25519', { passphrase: 'pw' }).privateKey), {}));
    expect(error.message).toMatch(/encrypted/);
  });
});

describe('ssh.exec params and config', () => {
  const valid = { host: 'web-1.internal', port: 2222, username: 'deploy', hostKeySha256: FINGERPRINT };

  it('normalises the fingerprint with or without prefix and padding, and fills port 22', () => {
    const bare = FINGERPRINT.slice('SHA256:'.length);
    for (const form of [FINGERPRINT, bare, `${bare}=`, `SHA256:${bare}=`]) {
      expect(executor.validateConfig({ ...valid, hostKeySha256: form })).toEqual(valid);
    }
    const { port: _p, ...withoutPort } = valid;
    expect(executor.validateConfig(withoutPort)).toEqual({ ...valid, port: 22 });
    expect(executor.validateConfig({ ...valid, host: '10.0.0.7' })).toMatchObject({ host: '10.0.0.7' });
    expect(executor.validateConfig({ ...valid, host: '::1' })).toMatchObject({ host: '::1' });
  });

  it.each<[string, Record<string, unknown>]>([
    ['no host key pin', { host: 'a', username: 'u' }],
    ['a hex (MD5-style) fingerprint', { ...valid, hostKeySha256: 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48' }],
    ['a short fingerprint', { ...valid, hostKeySha256: 'SHA256:abc' }],
    ['a host with a space', { ...valid, host: 'web 1' }],
    ['a host with a user', { ...valid, host: 'root@web-1' }],
    ['a host starting with a dash (option injection)', { ...valid, host: '-oProxyCommand=x' }],
    ['port 0', { ...valid, port: 0 }],
    ['a string port', { ...valid, port: '22' }],
    ['a username with a space', { ...valid, username: 'de ploy' }],
    ['a username starting with a dash', { ...valid, username: '-l' }],
    ['an unknown member', { ...valid, password: 'x' }],
  ])('refuses config with %s (CONFIG_INVALID)', (_name, config) => {
    expect(() => executor.validateConfig(config)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('checks params', () => {
    expect(executor.validateParams({ command: 'uptime' })).toEqual({ command: 'uptime' });
    for (const bad of [{}, { command: '' }, { command: [] }, { command: 'a\u0000b' }, { command: 'x'.repeat(8193) }, { command: 'ls', tty: true }]) {
      expect(() => executor.validateParams(bad)).toThrow(expect.objectContaining({ code: 'PARAMS_INVALID' }));
    }
  });
});

const available = sshdAvailable();
if (!available) process.stderr.write('ssh.exec: /usr/sbin/sshd is not installed (apt-get install openssh-server): skipping the tests against a real sshd\n');

(available ? describe : describe.skip)('ssh.exec against a real OpenSSH sshd', () => {
  let sshd: TestSshd;
  const config = () => ({ host: sshd.host, port: sshd.port, username: sshd.username, hostKeySha256: sshd.hostKeySha256 });
  const run = (command: string, options: { key?: string; hostKeySha256?: string; timeoutMs?: number; signal?: AbortSignal } = {}) =>
    runWithTimeout(
      executor,
      {
        secret: Buffer.from(options.key ?? client.privateKey),
        config: { ...config(), ...(options.hostKeySha256 ? { hostKeySha256: options.hostKeySha256 } : {}) },
        params: { command },
        ...(options.signal ? { signal: options.signal } : {}),
      },
      options.timeoutMs ?? 10_000,
    );

  beforeAll(async () => {
    sshd = await startSshd();
    sshd.authorize(client.publicKey);
  });
  afterAll(() => sshd?.close());

  it('runs the command with the key and returns stdout, stderr and the exit code', async () => {
    const result = await run('echo hello; echo oops >&2; exit 3');
    expect(result).toEqual({ stdout: 'hello\n', stderr: 'oops\n', exitCode: 3 });
    const clientFingerprint = sshFingerprint(Buffer.from(client.publicKey.split(' ')[1] as string, 'base64'));
    expect(acceptedKeys(sshd.log())).toContain(clientFingerprint);
  });

  it('fails closed on a host key mismatch, before authenticating (HOST_KEY_MISMATCH)', async () => {
    const logBefore = sshd.log().length;
    const error = await executorRejection(run('touch /tmp/should-not-exist', { hostKeySha256: FINGERPRINT }));
    expect(error.code).toBe('HOST_KEY_MISMATCH');
    expect(error.message).toContain(sshd.hostKeySha256);
    expect(error.message).toContain(FINGERPRINT);
    await waitFor(() => /Disconnected from .*\[preauth\]/.test(sshd.log().slice(logBefore)));
    // What sshd saw of this connection: a key exchange, then a disconnect, no key offered.
    const seen = sshd.log().slice(logBefore);
    expect(seen).not.toMatch(/publickey|Accepted key/);
    expect(seen).toMatch(/Received disconnect from 127\.0\.0\.1 port \d+:3:/);
  });

  it('reports a key the server does not accept as an authentication failure', async () => {
    const error = await executorRejection(run('id', { key: stranger.privateKey }));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toMatch(/refused the key/);
  });

  it('cuts stdout at 64 KiB and marks it truncated', async () => {
    const result = await run("head -c 100000 /dev/zero | tr '\\0' x; echo done >&2");
    expect(result).toMatchObject({ truncated: true, stderr: 'done\n', exitCode: 0 });
    expect(result.stdout).toBe('x'.repeat(EXEC_OUTPUT_LIMIT));
  });

  it('replaces NUL and invalid UTF-8 in the output', async () => {
    const result = await run("printf 'a\\000b\\377c'");
    expect(result.stdout).toBe('a\uFFFDb\uFFFDc');
  });

  it('times out (TIMEOUT) and closes the channel', async () => {
    const started = Date.now();
    const error = await executorRejection(run('sleep 5', { timeoutMs: 500 }));
    expect(error.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('stops when the caller aborts (ABORTED)', async () => {
    const controller = new AbortController();
    const pending = run('sleep 6', { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    expect((await executorRejection(pending)).code).toBe('ABORTED');
  });

  it('reports a refused connection as UPSTREAM_FAILED', async () => {
    const error = await executorRejection(
      runWithTimeout(executor, { secret: Buffer.from(client.privateKey), config: { ...config(), port: 1 }, params: { command: 'id' } }, 10_000),
    );
    expect(error).toMatchObject({ code: 'UPSTREAM_FAILED', message: expect.stringMatching(/ECONNREFUSED/) });
  });
});
