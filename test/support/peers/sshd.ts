import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD_PATH = '/usr/sbin/sshd';

export interface TestSshd {
  host: string;
  port: number;
  /** The user sshd runs commands as: the one running the tests. */
  username: string;
  /** `SHA256:…` of the host key, as `ssh-keygen -lf` prints it. */
  hostKeySha256: string;
  /** Adds a line to the authorized_keys file. */
  authorize(publicKeyLine: string): void;
  /** Everything sshd logged so far (`-e`, LogLevel VERBOSE). */
  log(): string;
  close(): Promise<void>;
}

/**
 * Whether the ssh tests can run: true when OpenSSH's sshd is installed. In CI
 * (`CI=true`) a missing sshd is an error, not a skip.
 */
export function sshdAvailable(): boolean {
  if (existsSync(SSHD_PATH)) return true;
  if (process.env['CI'] === 'true') throw new Error(`${SSHD_PATH} is missing: CI must install openssh-server (.ci/run)`);
  return false;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port} in time:\n${output()}`);
}

/**
 * A real OpenSSH sshd on 127.0.0.1 and a free port, in the foreground (`-D -e`),
 * with a fresh Ed25519 host key and its own authorized_keys file in a temp
 * directory: public keys only, no PAM, no password. Commands run as the
 * current user. `close()` stops it and removes the directory.
 */
export async function startSshd(): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'qg-sshd-'));
  const file = (name: string) => join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'qg-test-host', '-f', file('host_ed25519_key')], { stdio: 'pipe' });
  const fingerprintLine = execFileSync('ssh-keygen', ['-l', '-f', file('host_ed25519_key.pub')], { encoding: 'utf8' });
  const hostKeySha256 = /\b(SHA256:[A-Za-z0-9+/]{43})\b/.exec(fingerprintLine)?.[1];
  if (hostKeySha256 === undefined) throw new Error(`unexpected ssh-keygen -l output: ${fingerprintLine}`);
  writeFileSync(file('authorized_keys'), '', { mode: 0o600 });
  const username = userInfo().username;
  const port = await freePort();
  writeFileSync(
    file('sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${file('host_ed25519_key')}`,
      `AuthorizedKeysFile ${file('authorized_keys')}`,
      `PidFile ${file('sshd.pid')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${username}`,
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  // sshd's privilege separation directory; it refuses to start without it.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const chunks: Buffer[] = [];
  const child = spawn(SSHD_PATH, ['-D', '-e', '-f', file('sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  child.stderr?.on('data', (c: Buffer) => chunks.push(c));
  const log = () => Buffer.concat(chunks).toString('utf8');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, child, log);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    username,
    hostKeySha256,
    authorize: (line) => appendFileSync(file('authorized_keys'), `${line.trim()}\n`),
    log,
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `SHA256:` fingerprints sshd logged for each accepted public key login. */
export function acceptedKeys(log: string): string[] {
  return [...log.matchAll(/Accepted publickey for \S+ from \S+ port \d+ ssh2: \S+ (SHA256:[A-Za-z0-9+/]{43})/g)].map((m) => m[1] as string);
}

/** A fresh unencrypted OpenSSH key pair made by ssh-keygen; nothing stays on disk. */
export function generateSshKeyPair(type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519', options: { passphrase?: string; pem?: boolean } = {}): { privateKey: string; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qg-ssh-key-'));
  try {
    const path = join(dir, 'key');
    const args = ['-q', '-t', type, '-N', options.passphrase ?? '', '-C', 'qg-test-client', '-f', path];
    if (type === 'rsa') args.push('-b', '2048');
    if (options.pem) args.push('-m', 'PEM');
    execFileSync('ssh-keygen', args, { stdio: 'pipe' });
    return { privateKey: readFileSync(path, 'utf8'), publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
