import { isIP } from 'node:net';
import { requireMembers } from './checks.js';
import { ExecutorError } from './executor-error.js';

export interface SshConfig {
  host: string;
  port: number;
  username: string;
  /** Normalised to `SHA256:` followed by 43 base64 characters. */
  hostKeySha256: string;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const USER_NAME = /^[A-Za-z0-9._][A-Za-z0-9._@-]{0,63}$/;
const FINGERPRINT = /^(?:SHA256:)?([A-Za-z0-9+/]{43})=?$/;
const MAX_COMMAND_CHARS = 8 * 1024;

function configInvalid(message: string): ExecutorError {
  return new ExecutorError('CONFIG_INVALID', message);
}

/**
 * Checks `ssh.exec` config. Enforces:
 * - only `host`, `port`, `username`, `hostKeySha256`;
 * - `host` a DNS name or an IP address; `port` 1 to 65535 (default 22);
 * - `username` 1 to 64 characters of letters, digits, `.`, `_`, `@`, `-`;
 * - `hostKeySha256` required: the host key is pinned, there is no
 *   trust-on-first-use. The base64 SHA-256 of the host key blob, as
 *   `ssh-keygen -lf` prints it, with or without `SHA256:` and padding;
 *   returned as `SHA256:<43 characters>`.
 *
 * @example
 * validateSshConfig({ host: 'db-1.internal', username: 'deploy', hostKeySha256: 'SHA256:5G+zGGBV…' }); // port 22
 */
export function validateSshConfig(config: unknown): SshConfig {
  const c = requireMembers(config, ['host', 'port', 'username', 'hostKeySha256'], 'CONFIG_INVALID', 'ssh.exec config');
  if (typeof c.host !== 'string' || (isIP(c.host) === 0 && !HOST_NAME.test(c.host))) {
    throw configInvalid('config.host must be a host name or an IP address');
  }
  const port = c.port ?? 22;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw configInvalid('config.port must be an integer from 1 to 65535');
  if (typeof c.username !== 'string' || !USER_NAME.test(c.username)) {
    throw configInvalid('config.username must be 1 to 64 characters of letters, digits, ".", "_", "@" or "-"');
  }
  const fingerprint = typeof c.hostKeySha256 === 'string' ? FINGERPRINT.exec(c.hostKeySha256) : null;
  if (fingerprint === null) {
    throw configInvalid('config.hostKeySha256 must be the host key fingerprint as `ssh-keygen -lf` prints it (SHA256:<43 base64 characters>)');
  }
  return { host: c.host, port, username: c.username, hostKeySha256: `SHA256:${fingerprint[1]}` };
}

/**
 * Checks `ssh.exec` params. Enforces: only `command`, a string of 1 to 8192
 * characters without NUL. The remote shell interprets it: a policy glob on
 * `command` sees the whole line, `;` and `&&` included.
 */
export function parseSshParams(params: unknown): { command: string } {
  const p = requireMembers(params, ['command'], 'PARAMS_INVALID', 'params');
  if (typeof p.command !== 'string' || p.command.length === 0 || p.command.length > MAX_COMMAND_CHARS || p.command.includes('\u0000')) {
    throw new ExecutorError('PARAMS_INVALID', `params.command must be a string of 1 to ${MAX_COMMAND_CHARS} characters without NUL`);
  }
  return { command: p.command };
}
