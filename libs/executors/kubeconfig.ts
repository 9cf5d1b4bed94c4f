import { createPrivateKey, X509Certificate } from 'node:crypto';
import { CORE_SCHEMA, load } from 'js-yaml';
import { isRecord, truncate } from './checks.js';
import { ExecutorError } from './executor-error.js';

export type KubeAuth = { kind: 'token'; token: string } | { kind: 'client-certificate'; certificate: Buffer; key: Buffer };

/** What `kubernetes.exec` needs from a kubeconfig: one context, resolved. */
export interface KubeTarget {
  context: string;
  server: URL;
  /** PEM; when absent, the default roots are trusted. */
  caCertificate: Buffer | undefined;
  tlsServerName: string | undefined;
  auth: KubeAuth;
}

// Members that would make the gateway read its own files, run a program, reach
// a third party or skip TLS checks on behalf of whoever wrote the kubeconfig.
const REFUSED_CLUSTER_MEMBERS = ['certificate-authority', 'insecure-skip-tls-verify', 'proxy-url'] as const;
const REFUSED_USER_MEMBERS = [
  'tokenFile',
  'client-certificate',
  'client-key',
  'exec',
  'auth-provider',
  'username',
  'password',
  'as',
  'as-uid',
  'as-groups',
  'as-user-extra',
] as const;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_TOKEN_CHARS = 16 * 1024;
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

function invalid(message: string): ExecutorError {
  return new ExecutorError('SECRET_INVALID', `kubeconfig: ${message}`);
}

function parseYaml(secret: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(secret);
  } catch {
    throw invalid('not UTF-8 text');
  }
  let document: unknown;
  try {
    document = load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    // The parser's message quotes the offending source lines: name the line only.
    const line = (error as { mark?: { line?: unknown } }).mark?.line;
    throw invalid(`not valid YAML${typeof line === 'number' ? ` (line ${line + 1})` : ''}`);
  }
  if (!isRecord(document)) throw invalid('not a YAML mapping');
  return document;
}

/** The `{name, <member>}` entry of a named list (`clusters`, `contexts`, `users`). */
function namedEntry(document: Record<string, unknown>, list: string, member: string, name: string): Record<string, unknown> {
  const entries = document[list];
  if (!Array.isArray(entries)) throw invalid(`"${list}" must be a list`);
  const found = entries.filter((e) => isRecord(e) && e.name === name);
  if (found.length === 0) throw invalid(`no ${member} named "${truncate(name)}" in "${list}"`);
  if (found.length > 1) throw invalid(`more than one ${member} named "${truncate(name)}" in "${list}"`);
  const body = (found[0] as Record<string, unknown>)[member];
  if (!isRecord(body)) throw invalid(`${member} "${truncate(name)}" has no "${member}" mapping`);
  return body;
}

function nameOf(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253) throw invalid(`${what} must be a name of 1 to 253 characters`);
  return value;
}

function decodeData(value: unknown, what: string): Buffer {
  if (typeof value !== 'string') throw invalid(`${what} must be a base64 string`);
  const compact = value.replace(/\s+/g, '');
  if (compact.length === 0 || !BASE64.test(compact)) throw invalid(`${what} is not base64`);
  return Buffer.from(compact, 'base64');
}

function checkServer(value: unknown): URL {
  if (typeof value !== 'string' || value.length > 2048 || !URL.canParse(value)) throw invalid('cluster.server must be a URL');
  const url = new URL(value);
  if (url.protocol !== 'https:') throw invalid('cluster.server must be https: the token or client key would travel in clear');
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw invalid('cluster.server must not carry user info, a query or a fragment');
  }
  return url;
}

function checkCertificate(pem: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw invalid(`${what} is not a PEM certificate`);
  }
}

function readAuth(user: Record<string, unknown>, userName: string): KubeAuth {
  for (const member of REFUSED_USER_MEMBERS) {
    if (user[member] !== undefined) throw invalid(`user "${truncate(userName)}" uses "${member}", which quorumgate does not support (use a token or client-certificate-data)`);
  }
  const hasToken = user.token !== undefined;
  const hasCert = user['client-certificate-data'] !== undefined || user['client-key-data'] !== undefined;
  if (hasToken && hasCert) throw invalid(`user "${truncate(userName)}" has both a token and a client certificate: keep one`);
  if (hasToken) {
    const token = user.token;
    if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || !TOKEN_CHARS.test(token)) {
      throw invalid(`user "${truncate(userName)}" token must be printable ASCII without spaces, at most 16 KiB`);
    }
    return { kind: 'token', token };
  }
  if (hasCert) {
    const certificate = decodeData(user['client-certificate-data'], `user "${truncate(userName)}" client-certificate-data`);
    const key = decodeData(user['client-key-data'], `user "${truncate(userName)}" client-key-data`);
    const x509 = checkCertificate(certificate, `user "${truncate(userName)}" client-certificate-data`);
    let matches: boolean;
    try {
      matches = x509.checkPrivateKey(createPrivateKey(key));
    } catch {
      key.fill(0);
      throw invalid(`user "${truncate(userName)}" client-key-data is not a PEM private key`);
    }
    if (!matches) {
      key.fill(0);
      throw invalid(`user "${truncate(userName)}" client-key-data does not belong to its client certificate`);
    }
    return { kind: 'client-certificate', certificate, key };
  }
  throw invalid(`user "${truncate(userName)}" has neither a token nor client-certificate-data and client-key-data`);
}

/**
 * Reads a kubeconfig from memory and resolves one context. Enforces:
 * - UTF-8 YAML (or JSON) whose top level is a mapping;
 * - the context is `context` when given, else `current-context`; its cluster
 *   and user exist exactly once;
 * - `cluster.server` is an https URL without user info, query or fragment;
 *   `certificate-authority-data` and `client-certificate-data`, when present,
 *   are base64 PEM certificates; `client-key-data` is the private key of the
 *   client certificate;
 * - the user authenticates by `token` or by `client-certificate-data` +
 *   `client-key-data`, not both;
 * - refused, because they read gateway files, run programs, reach third
 *   parties or disable checks: `certificate-authority`, `insecure-skip-tls-verify`,
 *   `proxy-url`, `tokenFile`, `client-certificate`, `client-key`, `exec`,
 *   `auth-provider`, `username`/`password`, impersonation (`as*`).
 * Messages name members and names, never values. The caller zeroes
 * `auth.key` of a client certificate when done.
 *
 * @example
 * const target = parseKubeconfig(secret, 'prod');
 * // { context: 'prod', server: URL('https://10.0.0.1:6443'), caCertificate, auth: { kind: 'token', token } }
 */
export function parseKubeconfig(secret: Buffer, context?: string): KubeTarget {
  if (!Buffer.isBuffer(secret)) throw new TypeError('secret must be a Buffer');
  const document = parseYaml(secret);
  const contextName = context ?? document['current-context'];
  if (contextName === undefined || contextName === '') throw invalid('no context given and no "current-context"');
  const chosen = namedEntry(document, 'contexts', 'context', nameOf(contextName, 'the context'));
  const clusterName = nameOf(chosen.cluster, `context "${truncate(String(contextName))}" cluster`);
  const userName = nameOf(chosen.user, `context "${truncate(String(contextName))}" user`);
  const cluster = namedEntry(document, 'clusters', 'cluster', clusterName);
  for (const member of REFUSED_CLUSTER_MEMBERS) {
    if (cluster[member] !== undefined && cluster[member] !== false) {
      throw invalid(`cluster "${truncate(clusterName)}" uses "${member}", which quorumgate does not support (use certificate-authority-data)`);
    }
  }
  const server = checkServer(cluster.server);
  let caCertificate: Buffer | undefined;
  if (cluster['certificate-authority-data'] !== undefined) {
    caCertificate = decodeData(cluster['certificate-authority-data'], `cluster "${truncate(clusterName)}" certificate-authority-data`);
    checkCertificate(caCertificate, `cluster "${truncate(clusterName)}" certificate-authority-data`);
  }
  const tlsServerName = cluster['tls-server-name'];
  if (tlsServerName !== undefined && (typeof tlsServerName !== 'string' || !/^[A-Za-z0-9.-]{1,253}$/.test(tlsServerName))) {
    throw invalid(`cluster "${truncate(clusterName)}" tls-server-name must be a host name`);
  }
  const auth = readAuth(namedEntry(document, 'users', 'user', userName), userName);
  return { context: contextName as string, server, caCertificate, tlsServerName, auth };
}
