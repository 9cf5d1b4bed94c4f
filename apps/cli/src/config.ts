import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApiClient, isRecord, normaliseUrl } from './api-client.js';
import { CliError, ExitCode } from './exit-codes.js';

/** `$XDG_CONFIG_HOME/quorumgate`, else `~/.config/quorumgate`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.config');
  return join(base, 'quorumgate');
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'config.json');
}

export interface Session {
  token: string;
  username: string;
  /** RFC 3339; the token is not sent after it. */
  expiresAt: string;
}

/** Sessions are kept per gateway URL so that a token never goes to another gateway. */
export interface ConfigFile {
  v: 1;
  defaultUrl?: string;
  sessions: Record<string, Session>;
}

export async function loadConfig(path = configPath()): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { v: 1, sessions: {} };
    throw error;
  }
  await warnIfReadableByOthers(path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not JSON: delete it and run qg login again`);
  }
  if (!isRecord(parsed) || parsed.v !== 1 || !isRecord(parsed.sessions)) throw new CliError(`${path} is not a quorumgate config file`);
  const sessions: Record<string, Session> = {};
  for (const [url, s] of Object.entries(parsed.sessions)) {
    if (isRecord(s) && typeof s.token === 'string' && typeof s.username === 'string' && typeof s.expiresAt === 'string') {
      sessions[url] = { token: s.token, username: s.username, expiresAt: s.expiresAt };
    }
  }
  return { v: 1, defaultUrl: typeof parsed.defaultUrl === 'string' ? parsed.defaultUrl : undefined, sessions };
}

export async function saveConfig(config: ConfigFile, path = configPath()): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * Writes a file only its owner can read (0600, directory 0700), atomically: a
 * temporary file created with that mode, then renamed over the target.
 */
export async function writePrivateFile(path: string, content: string, options: { exclusive?: boolean } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  if (options.exclusive === true) {
    await writeFile(path, content, { mode: 0o600, flag: 'wx' });
    return;
  }
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

async function warnIfReadableByOthers(path: string): Promise<void> {
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) process.stderr.write(`qg: warning: ${path} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}\n`);
}

export interface ConnectionOptions {
  url?: string;
}

export interface Connection {
  url: string;
  token: string | undefined;
  /** where the token came from, for messages */
  tokenSource: 'QG_TOKEN' | 'login' | 'none';
  username?: string;
}

/**
 * The gateway URL: --url, else QG_URL, else the URL of the last `qg login`. The
 * token: QG_TOKEN (a service-account `qgs_…` token or an access token), else the
 * cached session of exactly that URL if it has not expired.
 */
export async function resolveConnection(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const config = await loadConfig(configPath(env));
  const rawUrl = options.url ?? nonEmpty(env.QG_URL) ?? config.defaultUrl;
  if (rawUrl === undefined) throw new CliError('no gateway URL: pass --url, set QG_URL or run qg login --url URL', ExitCode.usage);
  const url = normaliseUrl(rawUrl);
  const envToken = nonEmpty(env.QG_TOKEN);
  if (envToken !== undefined) return { url, token: envToken.trim(), tokenSource: 'QG_TOKEN' };
  const session = config.sessions[url];
  if (session !== undefined && Date.parse(session.expiresAt) > Date.now()) {
    return { url, token: session.token, tokenSource: 'login', username: session.username };
  }
  return { url, token: undefined, tokenSource: 'none', username: session?.username };
}

/** A client that must carry a token. */
export async function authenticatedClient(options: ConnectionOptions): Promise<{ api: ApiClient; connection: Connection }> {
  const connection = await resolveConnection(options);
  if (connection.token === undefined) {
    const why = connection.username !== undefined ? `the session of ${connection.username} on ${connection.url} expired` : `not logged in to ${connection.url}`;
    throw new CliError(`${why}: run qg login, or set QG_TOKEN`, ExitCode.denied);
  }
  return { api: new ApiClient(connection.url, connection.token), connection };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
