import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { throwIfAborted } from './checks.js';
import type { ExecutionInput, Executor } from './executor.js';
import { ExecutorError } from './executor-error.js';
import { validateHttpConfig, type HttpConfig } from './http-config.js';
import { parseHttpParams, resolveTarget, type HttpParams } from './http-params.js';
import { checkHttpToken } from './http-token.js';

// The token must become a JS string for node:http's header API, and that
// string cannot be zeroed; the secret Buffer itself is only read, never copied.

export const HTTP_BODY_LIMIT = 64 * 1024;
const REDACTED = Buffer.from('[REDACTED]');

interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  truncated?: true;
}

function upstreamFailed(error: unknown, origin: string): ExecutorError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new ExecutorError('UPSTREAM_FAILED', `request to ${origin} failed (${typeof code === 'string' ? code : 'no response'})`);
}

/**
 * Replaces the token wherever the upstream echoes it, then cuts at the limit.
 * `raw` may run past the limit by up to token length − 1 bytes so that a
 * token straddling the cut is still seen whole.
 */
function redactAndCut(raw: Buffer, token: Buffer, limit: number): { bytes: Buffer; cut: boolean } {
  const parts: Buffer[] = [];
  const end = Math.min(raw.byteLength, limit);
  let at = 0;
  while (at < end) {
    const found = raw.indexOf(token, at);
    if (found === -1 || found >= end) {
      parts.push(raw.subarray(at, end));
      break;
    }
    parts.push(raw.subarray(at, found), REDACTED);
    at = found + token.byteLength;
  }
  const bytes = Buffer.concat(parts);
  const cut = raw.byteLength > limit || bytes.byteLength > limit;
  return { bytes: bytes.byteLength > limit ? bytes.subarray(0, limit) : bytes, cut };
}

function collectHeaders(response: IncomingMessage, token: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (name === 'set-cookie' || value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(', ') : value;
    out[name.toLowerCase()] = joined.split(token).join('[REDACTED]');
  }
  return out;
}

function send(
  config: HttpConfig,
  request: HttpParams,
  headerValue: string,
  token: Buffer,
  signal: AbortSignal,
): Promise<HttpResult> {
  const { url, requestPath } = resolveTarget(config.baseUrl, request.path);
  const headers: Record<string, string> = { ...request.headers };
  if (request.body !== undefined) {
    const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
    if (request.body.json && !hasType) headers['content-type'] = 'application/json';
    headers['content-length'] = String(request.body.bytes.byteLength);
  }
  headers[config.header] = headerValue;
  const options: https.RequestOptions = {
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? undefined : Number(url.port),
    path: requestPath,
    method: request.method,
    headers,
    // A fresh connection per call: no pooled socket carries one credential's
    // traffic into another's request.
    agent: false,
    signal,
  };
  const tokenText = token.toString('latin1');
  return new Promise<HttpResult>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      reject(signal.aborted ? new ExecutorError('ABORTED', 'the operation was aborted') : upstreamFailed(error, url.origin));
    };
    const onResponse = (response: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      const readLimit = HTTP_BODY_LIMIT + token.byteLength - 1;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        const { bytes, cut } = redactAndCut(Buffer.concat(chunks), token, HTTP_BODY_LIMIT);
        // A cut can split a UTF-8 sequence; the decoder holds the partial tail back.
        const body = cut ? new StringDecoder('utf8').write(bytes) : bytes.toString('utf8');
        const result: HttpResult = { status: response.statusCode ?? 0, headers: collectHeaders(response, tokenText), body };
        if (cut) result.truncated = true;
        resolve(result);
      };
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        chunks.push(chunk);
        size += chunk.byteLength;
        if (size > readLimit) {
          finish();
          response.destroy();
        }
      });
      response.on('end', finish);
      response.on('error', fail);
      response.on('close', () => fail(new Error('response closed early')));
    };
    const client =
      url.protocol === 'https:'
        ? https.request({ ...options, ca: config.caCertificate, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, onResponse)
        : http.request(options, onResponse);
    client.on('error', fail);
    client.end(request.body?.bytes);
  });
}

/**
 * `http` (credential kind `http-token`): sends one request under
 * `config.baseUrl` with the token in `config.header` (`scheme token`, or the
 * token alone when `scheme` is `''`). Follows no redirect: a 3xx comes back
 * as is, since following it could carry the token elsewhere. Returns
 * `{status, headers, body}`: headers lower-cased without `set-cookie`, body
 * text cut at 64 KiB with `truncated: true` when cut, and any echo of the
 * token replaced by `[REDACTED]`.
 *
 * @example
 * const result = await runWithTimeout(httpExecutor, { secret, config, params: { method: 'GET', path: '/health' } }, 10_000);
 */
export const httpExecutor: Executor = {
  kind: 'http',
  credentialKinds: ['http-token'],

  validateConfig(config: unknown): Record<string, unknown> {
    return { ...validateHttpConfig(config) };
  },

  validateParams(params: unknown, config?: Record<string, unknown>): Record<string, unknown> {
    const credentialHeader = config === undefined ? undefined : validateHttpConfig(config).header;
    parseHttpParams(params, credentialHeader);
    const { method, path, headers, body } = params as Record<string, unknown>;
    return { method, path, ...(headers === undefined ? {} : { headers }), ...(body === undefined ? {} : { body }) };
  },

  async execute({ secret, config, params, signal }: ExecutionInput): Promise<Record<string, unknown>> {
    const checkedConfig = validateHttpConfig(config);
    const request = parseHttpParams(params, checkedConfig.header);
    checkHttpToken(secret);
    throwIfAborted(signal);
    const tokenText = secret.toString('latin1');
    const headerValue = checkedConfig.scheme === '' ? tokenText : `${checkedConfig.scheme} ${tokenText}`;
    return { ...(await send(checkedConfig, request, headerValue, secret, signal)) };
  },
};
