import { isRecord, requireMembers, truncate } from './checks.js';
import { ExecutorError } from './executor-error.js';
import { RESERVED_HEADERS, TOKEN } from './http-config.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface HttpParams {
  method: HttpMethod;
  path: string;
  headers: Record<string, string>;
  /** Encoded body and whether it came from an object (sent as JSON). */
  body: { bytes: Buffer; json: boolean } | undefined;
}

const MAX_PATH_CHARS = 2048;
const MAX_HEADERS = 50;
const MAX_HEADER_VALUE_CHARS = 8 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;
const PERCENT_ESCAPES = /%(?![0-9A-Fa-f]{2})/;
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
const CONTROL_OR_SLASH = /[\x00-\x1f\x7f/\\]/;
// Always refused: the default credential header, even when a credential uses
// another one, so that an upstream never sees two identities.
const REFUSED_HEADERS: ReadonlySet<string> = new Set([...RESERVED_HEADERS, 'authorization']);

function invalid(message: string): ExecutorError {
  return new ExecutorError('PARAMS_INVALID', message);
}

/**
 * Enforces on `params.path`: starts with one `/` (a path, not a URL or a
 * scheme-relative `//host`); RFC 3986 characters only, valid `%` escapes; no
 * `;` in the path part, plain or encoded (matrix parameters and Tomcat/Spring
 * path parameters make `/admin;x/..` mean another path than the one a policy
 * glob saw); no path segment that decodes to `.`, starts with `..` or contains
 * a slash, backslash or control character. A query after `?` is allowed.
 */
function checkPath(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PATH_CHARS) {
    throw invalid('params.path must be a string of 1 to 2048 characters');
  }
  if (!value.startsWith('/') || value.startsWith('//')) {
    throw invalid('params.path must start with a single "/" (a path under the base URL, not a URL)');
  }
  const queryAt = value.indexOf('?');
  const path = queryAt === -1 ? value : value.slice(0, queryAt);
  const query = queryAt === -1 ? '' : value.slice(queryAt + 1);
  if (queryAt !== -1 && query === '') throw invalid('params.path ends with an empty query "?"');
  if (!PATH_CHARS.test(path) || !QUERY_CHARS.test(query)) {
    throw invalid('params.path has characters that must be percent-encoded (space, non-ASCII, #, \\, quotes, brackets)');
  }
  if (PERCENT_ESCAPES.test(value)) throw invalid('params.path has a "%" that is not a valid escape');
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw invalid('params.path has an escape that is not UTF-8');
    }
    if (decoded.includes(';')) throw invalid('params.path must not contain ";" in its path part (path parameters), plain or encoded');
    if (decoded === '.' || decoded.startsWith('..')) throw invalid('params.path must not have a "." segment or a segment starting with ".."');
    if (CONTROL_OR_SLASH.test(decoded)) throw invalid('params.path must not encode slashes, backslashes or control characters');
  }
  return value;
}

function checkHeaders(value: unknown, credentialHeader: string | undefined): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw invalid('params.headers must be an object of strings');
  const entries = Object.entries(value);
  if (entries.length > MAX_HEADERS) throw invalid(`params.headers must have at most ${MAX_HEADERS} entries`);
  const seen = new Set<string>();
  const out: Record<string, string> = {};
  for (const [name, headerValue] of entries) {
    if (name.length > 256 || !TOKEN.test(name)) throw invalid(`params.headers has an invalid header name "${truncate(name)}"`);
    const lower = name.toLowerCase();
    if (REFUSED_HEADERS.has(lower) || lower === credentialHeader?.toLowerCase()) {
      throw invalid(`params.headers must not set "${name}" (credential, host or hop-by-hop header)`);
    }
    if (seen.has(lower)) throw invalid(`params.headers sets "${name}" twice`);
    seen.add(lower);
    if (typeof headerValue !== 'string' || headerValue.length > MAX_HEADER_VALUE_CHARS || !HEADER_VALUE.test(headerValue)) {
      throw invalid(`params.headers["${name}"] must be printable ASCII without CR or LF, at most 8 KiB`);
    }
    out[name] = headerValue;
  }
  return out;
}

function encodeBody(value: unknown, method: HttpMethod): HttpParams['body'] {
  if (value === undefined) return undefined;
  if (method === 'GET' || method === 'HEAD') throw invalid(`params.body is not allowed with ${method}`);
  let bytes: Buffer;
  let json: boolean;
  if (typeof value === 'string') {
    bytes = Buffer.from(value, 'utf8');
    json = false;
  } else if (typeof value === 'object' && value !== null) {
    try {
      bytes = Buffer.from(JSON.stringify(value), 'utf8');
    } catch {
      throw invalid('params.body object is not serialisable as JSON');
    }
    json = true;
  } else {
    throw invalid('params.body must be a string or an object (sent as JSON)');
  }
  if (bytes.byteLength > MAX_BODY_BYTES) throw invalid('params.body must be at most 1 MiB');
  return { bytes, json };
}

/**
 * Checks `http` params. Enforces:
 * - only `method`, `path`, `headers`, `body`;
 * - `method` one of GET, POST, PUT, PATCH, DELETE, HEAD, upper case;
 * - `path` as `checkPath` says;
 * - `headers` at most 50 printable-ASCII strings, none of `Authorization`,
 *   the credential's header (when `credentialHeader` is known), `Host`,
 *   `Content-Length`, `Expect` or a hop-by-hop header, no name twice;
 * - `body` a string or a JSON object/array, at most 1 MiB, not with GET or HEAD.
 *
 * @example
 * parseHttpParams({ method: 'POST', path: '/admin/rotate', body: { key: 'db' } }, 'Authorization');
 */
export function parseHttpParams(params: unknown, credentialHeader: string | undefined): HttpParams {
  const p = requireMembers(params, ['method', 'path', 'headers', 'body'], 'PARAMS_INVALID', 'params');
  const method = HTTP_METHODS.find((m) => m === p.method);
  if (method === undefined) throw invalid(`params.method must be one of ${HTTP_METHODS.join(', ')}`);
  return {
    method,
    path: checkPath(p.path),
    headers: checkHeaders(p.headers, credentialHeader),
    body: encodeBody(p.body, method),
  };
}

/**
 * The request target under `baseUrl`: the base path joined with
 * `params.path`, checked once more after WHATWG URL parsing (same origin,
 * still under the base path, nothing normalised away).
 */
export function resolveTarget(baseUrl: string, path: string): { url: URL; requestPath: string } {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const requestPath = basePath + path;
  const url = new URL(requestPath, base.origin);
  const underBase = basePath === '' || url.pathname === basePath || url.pathname.startsWith(`${basePath}/`);
  if (url.origin !== base.origin || !underBase || url.pathname + url.search !== requestPath) {
    throw invalid('params.path does not stay under the base URL');
  }
  return { url, requestPath };
}
