import { CliError, ExitCode } from './exit-codes.js';

/** An RFC 9457 problem the gateway answered with (or a non-JSON error). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly code: string | undefined,
  ) {
    super(oneLine(`${detail} (HTTP ${status}${code !== undefined ? ` ${code}` : ''})`), exitCodeForStatus(status, code));
    this.name = 'ApiError';
  }
}

/**
 * 401/403 are denials; a 400 the gateway found invalid in what we sent is a usage
 * error unless it is about a signature or share (then the operation failed).
 */
export function exitCodeForStatus(status: number, code: string | undefined): number {
  if (status === 401 || status === 403) return ExitCode.denied;
  if (status === 400 && (code === undefined || code === 'VALIDATION_FAILED')) return ExitCode.usage;
  return ExitCode.failed;
}

export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ServerSentEvent {
  event: string;
  id?: string;
  data: string;
}

/** A thin JSON client of the gateway API: Bearer token in, parsed JSON or an ApiError out. */
export class ApiClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly token: string | undefined,
  ) {
    this.baseUrl = normaliseUrl(baseUrl);
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  async get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.send<T>('GET', path, options)).body;
  }

  async post<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return (await this.send<T>('POST', path, { ...options, body })).body;
  }

  async put<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return (await this.send<T>('PUT', path, { ...options, body })).body;
  }

  async send<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...this.authHeader(), ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, { method, headers, body, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted === true) throw error;
      throw new CliError(`cannot reach ${this.baseUrl}: ${describeNetworkError(error)}`, ExitCode.failed);
    }
    const text = await res.text();
    const parsed = parseJson(text);
    if (!res.ok) {
      const problem = isRecord(parsed) ? parsed : {};
      const detail = typeof problem.detail === 'string' && problem.detail !== '' ? problem.detail : text.slice(0, 200) || res.statusText || 'request failed';
      const code = typeof problem.code === 'string' ? problem.code : undefined;
      throw new ApiError(res.status, detail, code);
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /**
   * Server-sent events from `path` until `signal` aborts or the server closes the
   * stream. Comments (keep-alives) are skipped.
   */
  async *events(path: string, signal: AbortSignal): AsyncGenerator<ServerSentEvent> {
    const res = await fetch(this.baseUrl + path, { headers: { accept: 'text/event-stream', ...this.authHeader() }, signal });
    if (!res.ok || res.body === null) throw new ApiError(res.status, 'event stream unavailable', undefined);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = parseEvent(block);
          if (event !== undefined) yield event;
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  private authHeader(): Record<string, string> {
    return this.token !== undefined ? { authorization: `Bearer ${this.token}` } : {};
  }
}

function parseEvent(block: string): ServerSentEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? undefined : { event, id, data: data.join('\n') };
}

export function normaliseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`not a URL: ${url}`, ExitCode.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CliError(`the gateway URL must be http(s): ${url}`, ExitCode.usage);
  if (parsed.username !== '' || parsed.password !== '') throw new CliError('put no credentials in the gateway URL', ExitCode.usage);
  // A password and bearer tokens cross this connection: in clear text only to this machine.
  if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
    throw new CliError(`refusing plain http:// to ${parsed.hostname}: passwords and tokens would cross the network unencrypted; use https:// (plain http is allowed only to localhost, 127.0.0.0/8 and [::1])`, ExitCode.usage);
  }
  return parsed.origin + parsed.pathname.replace(/\/+$/, '');
}

/** localhost, 127.0.0.0/8, ::1 (as `URL.hostname` writes them). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) || hostname === '[::1]';
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return 'network error';
  const cause = (error as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${cause.message}` : cause.message;
  }
  return error.message;
}
