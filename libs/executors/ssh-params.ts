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

const MAX_ARGS = 256;

/**
 * Quotes one argument for a POSIX shell (`sh`, `bash`, `dash`, `ksh`, `zsh`): the
 * whole argument between single quotes, inside which the shell expands nothing, and
 * each `'` as `'\''` (end the quote, an escaped quote, reopen). An empty argument
 * stays one argument (`''`). Newlines are literal inside single quotes. It does not
 * stop a program from reading a leading `-` as an option: that is the argv's meaning,
 * which the custodians approve. Not for csh, tcsh or fish, which expand `!` or
 * backslashes inside single quotes.
 *
 * @example
 * quoteShellArgument("it's $(id)"); // 'it'\''s $(id)'
 */
export function quoteShellArgument(argument: string): string {
  if (typeof argument !== 'string' || argument.includes('\u0000')) throw new TypeError('quoteShellArgument: a string without NUL');
  return `'${argument.replace(/'/g, "'\\''")}'`;
}

/**
 * The command line the gateway sends for an `ssh.exec` command: a string as given
 * (the remote shell interprets it), an argv as its arguments quoted one by one and
 * joined by spaces, so that the remote shell runs exactly that program with exactly
 * those arguments.
 *
 * @example
 * shellCommandLine(['grep', '-r', 'a b', '/var/log']); // 'grep' '-r' 'a b' '/var/log'
 */
export function shellCommandLine(command: string | string[]): string {
  return typeof command === 'string' ? command : command.map(quoteShellArgument).join(' ');
}

/**
 * Checks `ssh.exec` params. Enforces: only `command`, either a string of 1 to
 * 8192 characters without NUL, which the remote shell interprets (a policy glob
 * on it sees the whole line; a policy that constrains `command` refuses one with
 * shell metacharacters), or an argv: 1 to 256 strings without NUL, the first
 * not empty, at most 8192 characters once quoted, which the gateway quotes
 * (`shellCommandLine`) so that each element reaches the program as one argument.
 */
export function parseSshParams(params: unknown): { command: string | string[] } {
  const p = requireMembers(params, ['command'], 'PARAMS_INVALID', 'params');
  const command = p.command;
  if (Array.isArray(command)) {
    if (command.length === 0 || command.length > MAX_ARGS || !command.every((arg): arg is string => typeof arg === 'string' && !arg.includes('\u0000')) || command[0] === '') {
      throw new ExecutorError('PARAMS_INVALID', `params.command as an argv must be 1 to ${MAX_ARGS} strings without NUL, the program first (not empty)`);
    }
    if (shellCommandLine(command).length > MAX_COMMAND_CHARS) throw new ExecutorError('PARAMS_INVALID', `params.command must be at most ${MAX_COMMAND_CHARS} characters once quoted`);
    return { command: [...command] };
  }
  if (typeof command !== 'string' || command.length === 0 || command.length > MAX_COMMAND_CHARS || command.includes('\u0000')) {
    throw new ExecutorError('PARAMS_INVALID', `params.command must be a string of 1 to ${MAX_COMMAND_CHARS} characters without NUL, or an argv array of strings`);
  }
  return { command };
}
