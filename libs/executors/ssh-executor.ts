import ssh2, { type ClientChannel } from 'ssh2';
import { throwIfAborted } from './checks.js';
import type { ExecutionInput, Executor } from './executor.js';
import { ExecutorError } from './executor-error.js';
import { execResult, OutputCapture } from './output-capture.js';
import { parseSshParams, shellCommandLine, validateSshConfig, type SshConfig } from './ssh-params.js';
import { parseSshPrivateKey, sshFingerprint } from './ssh-key.js';

const READY_TIMEOUT_MS = 30_000;

type Outcome = { result: Record<string, unknown> } | { error: ExecutorError };

function failed(error: unknown, config: SshConfig): ExecutorError {
  const { level, code } = (error ?? {}) as { level?: unknown; code?: unknown };
  if (level === 'client-authentication') {
    return new ExecutorError('UPSTREAM_FAILED', `ssh ${config.username}@${config.host}:${config.port} refused the key (authentication failed)`);
  }
  if (level === 'client-timeout') return new ExecutorError('UPSTREAM_FAILED', `ssh ${config.host}:${config.port} did not complete the handshake in time`);
  const reason = typeof code === 'string' ? code : typeof level === 'string' ? level : 'no answer';
  return new ExecutorError('UPSTREAM_FAILED', `ssh connection to ${config.host}:${config.port} failed (${reason})`);
}

function run(config: SshConfig, command: string, secret: Buffer, signal: AbortSignal): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const stdout = new OutputCapture();
    const stderr = new OutputCapture();
    let exit: { code: number | null; signal?: string } | undefined;
    let presentedHostKey: string | undefined;
    let channel: ClientChannel | undefined;
    let settled = false;

    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (channel !== undefined && 'error' in outcome) {
        // Closing the channel does not stop a command that has no pty: ask sshd
        // to signal it. Best effort: OpenSSH refuses signals to root sessions.
        channel.signal('TERM');
      }
      channel?.close();
      client.end();
      // end() waits for the server; destroy() makes sure nothing outlives the call.
      setImmediate(() => client.destroy());
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.result);
    };
    const onAbort = () => finish({ error: new ExecutorError('ABORTED', 'the operation was aborted; the ssh channel is closed') });
    signal.addEventListener('abort', onAbort, { once: true });

    client.on('ready', () => {
      client.exec(command, (error, opened) => {
        if (error !== undefined && error !== null) {
          finish({ error: new ExecutorError('UPSTREAM_FAILED', `ssh ${config.host}:${config.port} refused to start the command`) });
          return;
        }
        channel = opened;
        if (settled) {
          opened.close();
          return;
        }
        opened.on('data', (chunk: Buffer) => stdout.write(chunk));
        opened.stderr.on('data', (chunk: Buffer) => stderr.write(chunk));
        opened.on('exit', (code: number | null, signalName?: string) => {
          exit = typeof code === 'number' ? { code } : { code: null, ...(typeof signalName === 'string' ? { signal: signalName } : {}) };
        });
        opened.on('close', () => {
          if (exit === undefined) {
            finish({ error: new ExecutorError('UPSTREAM_FAILED', 'ssh: the channel closed without an exit status') });
            return;
          }
          finish({ result: execResult(stdout, stderr, exit.code, exit.signal === undefined ? {} : { signal: exit.signal }) });
        });
      });
    });
    client.on('error', (error) => {
      if (presentedHostKey !== undefined) {
        finish({
          error: new ExecutorError(
            'HOST_KEY_MISMATCH',
            `ssh ${config.host}:${config.port} presented host key ${presentedHostKey}, not the pinned ${config.hostKeySha256}: refused before authenticating`,
          ),
        });
        return;
      }
      finish({ error: failed(error, config) });
    });
    client.on('close', () => finish({ error: new ExecutorError('UPSTREAM_FAILED', `ssh ${config.host}:${config.port} closed the connection before the command finished`) }));

    client.connect({
      host: config.host,
      port: config.port,
      username: config.username,
      privateKey: secret,
      authHandler: ['publickey'],
      tryKeyboard: false,
      readyTimeout: READY_TIMEOUT_MS,
      // Called during key exchange, before any authentication is sent.
      hostVerifier: (hostKey: Buffer): boolean => {
        const fingerprint = sshFingerprint(hostKey);
        if (fingerprint === config.hostKeySha256) return true;
        presentedHostKey = fingerprint;
        return false;
      },
    });
  });
}

/**
 * `ssh.exec` (credential kind `ssh-key`): runs `params.command` (a string as
 * given; an argv quoted for a POSIX shell by `shellCommandLine`) on
 * `config.host` as `config.username`, authenticating with the private key
 * (publickey only). The host key must hash to `config.hostKeySha256`; any
 * other key fails closed with HOST_KEY_MISMATCH during key exchange, before
 * the client authenticates. Returns `{stdout, stderr, exitCode}` (and
 * `signal` when the command was killed by one); each stream is cut at 64 KiB
 * with `truncated: true`. Aborting closes the channel and the connection.
 *
 * @example
 * const result = await runWithTimeout(sshExecutor, { secret, params: { command: 'systemctl status nginx' },
 *   config: { host: 'web-1.internal', port: 22, username: 'ops', hostKeySha256: 'SHA256:…' } }, 60_000);
 */
export const sshExecutor: Executor = {
  kind: 'ssh.exec',
  credentialKinds: ['ssh-key'],

  validateConfig(config: unknown): Record<string, unknown> {
    return { ...validateSshConfig(config) };
  },

  validateParams(params: unknown): Record<string, unknown> {
    return { ...parseSshParams(params) };
  },

  async execute({ secret, config, params, signal }: ExecutionInput): Promise<Record<string, unknown>> {
    const checkedConfig = validateSshConfig(config);
    const { command } = parseSshParams(params);
    parseSshPrivateKey(secret);
    throwIfAborted(signal);
    return run(checkedConfig, shellCommandLine(command), secret, signal);
  },
};
