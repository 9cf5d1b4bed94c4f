import { X509Certificate } from 'node:crypto';
import { requireMembers } from './checks.js';
import { ExecutorError } from './executor-error.js';

export interface HttpConfig {
  baseUrl: string;
  header: string;
  scheme: string;
  caCertificate?: string;
}

/** RFC 9110 `token`: header names and auth schemes. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers that steer framing or routing: neither the credential header nor a caller's. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
]);

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;
const MAX_URL_CHARS = 2048;
const MAX_CA_CHARS = 64 * 1024;

function invalid(message: string): ExecutorError {
  return new ExecutorError('CONFIG_INVALID', message);
}

function checkBaseUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_CHARS) {
    throw invalid('config.baseUrl must be a URL of at most 2048 characters');
  }
  if (!URL.canParse(value)) throw invalid('config.baseUrl is not a URL');
  const url = new URL(value);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw invalid('config.baseUrl must be https (http only for 127.0.0.1, localhost or [::1])');
  }
  if (url.username !== '' || url.password !== '') throw invalid('config.baseUrl must not carry user info');
  if (value.includes('?') || value.includes('#')) throw invalid('config.baseUrl must not have a query or fragment');
  return value;
}

function checkCaCertificate(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CA_CHARS) {
    throw invalid('config.caCertificate must be a PEM string of at most 64 KiB');
  }
  const blocks = value.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0 || value.replace(PEM_CERTIFICATE, '').trim() !== '') {
    throw invalid('config.caCertificate must hold only PEM certificates');
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw invalid('config.caCertificate holds a certificate that does not parse');
    }
  }
  return value;
}

/**
 * Checks `http` config. Enforces:
 * - only `baseUrl`, `header`, `scheme`, `caCertificate`;
 * - `baseUrl` https, or http for a loopback host only; no user info, query or fragment;
 * - `header` (default `Authorization`) an HTTP token, not a framing or hop-by-hop header;
 * - `scheme` (default `Bearer`) an HTTP token, or `''` to send the token alone;
 * - `caCertificate`, when present, PEM certificates only; it then replaces
 *   the default roots, so only that CA is trusted.
 * Returns the config with defaults filled in, so a later change of default
 * does not change a stored credential.
 *
 * @example
 * validateHttpConfig({ baseUrl: 'https://admin.internal/api' }); // header 'Authorization', scheme 'Bearer'
 */
export function validateHttpConfig(config: unknown): HttpConfig {
  const c = requireMembers(config, ['baseUrl', 'header', 'scheme', 'caCertificate'], 'CONFIG_INVALID', 'http config');
  const baseUrl = checkBaseUrl(c.baseUrl);
  const header = c.header ?? 'Authorization';
  if (typeof header !== 'string' || header.length > 256 || !TOKEN.test(header)) throw invalid('config.header must be an HTTP header name');
  if (RESERVED_HEADERS.has(header.toLowerCase())) throw invalid(`config.header "${header}" is a reserved header`);
  const scheme = c.scheme ?? 'Bearer';
  if (typeof scheme !== 'string' || scheme.length > 64 || (scheme !== '' && !TOKEN.test(scheme))) {
    throw invalid('config.scheme must be an HTTP auth scheme such as "Bearer", or ""');
  }
  const result: HttpConfig = { baseUrl, header, scheme };
  if (c.caCertificate !== undefined) result.caCertificate = checkCaCertificate(c.caCertificate);
  return result;
}
