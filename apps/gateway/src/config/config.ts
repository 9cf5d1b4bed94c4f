import { ROLES, type Role } from '#libs/contracts';

/**
 * The gateway's whole configuration, read from the environment once at boot.
 * A bad value stops the process with one line naming the variable.
 */
export interface GatewayConfig {
  port: number;
  host: string;
  /** Unset: the embedded PostgreSQL (PGlite) in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** 32 bytes; unset only with the embedded database, where one is generated into `dataDir`. */
  masterKey: Buffer | undefined;
  bootstrapAdminPassword: string | undefined;
  logLevel: LogLevel;
  /** The longest an operation may run; an execution holding `executing` past this plus a margin was interrupted. */
  operationTimeoutSeconds: number;
  /**
   * Which proxies' X-Forwarded-For to believe for the client's address (Express
   * "trust proxy"): false (none), a number of hops, or addresses, subnets and the
   * names loopback, linklocal, uniquelocal.
   */
  trustProxy: false | number | string[];
  /** Where people reach the gateway (`QG_PUBLIC_URL`, no trailing slash): the OIDC redirect URI and links start with it. */
  publicUrl?: string;
  /** `smtp://` or `smtps://` with credentials: email notifications go through it; unset, email channels record a failed delivery. */
  smtpUrl: string | undefined;
  /**
   * Swagger UI at /api/docs and the OpenAPI document at /api/docs-json (`QG_API_DOCS`):
   * on by default, off by default when NODE_ENV=production.
   */
  apiDocs: boolean;
  /**
   * The bearer token /metrics asks for (`QG_METRICS_TOKEN`, 32+ characters). Unset:
   * /metrics answers only a client on the loopback interface whose request names no
   * proxy (no Forwarded or X-Forwarded-For header).
   */
  metricsToken: string | undefined;
  /** Single sign-on; unset when `QG_OIDC_ISSUER` is. */
  oidc?: OidcConfig;
  /** False (`QG_PASSWORD_LOGIN=off`): only the bootstrap admin signs in with a password. */
  passwordLogin?: boolean;
}

export interface OidcConfig {
  issuer: string;
  /** What the login page calls the issuer ("Sign in with …"): `QG_OIDC_NAME`, else the issuer's host. */
  name: string;
  clientId: string;
  /** Unset: a public client (PKCE only, no client authentication). */
  clientSecret: string | undefined;
  scopes: string;
  /** A claim name, or a dotted path into the ID token (`realm_access.roles`). */
  rolesClaim: string;
  /** Claim value → the roles it grants. */
  roleMap: ReadonlyMap<string, readonly Role[]>;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env): GatewayConfig {
  const databaseUrl = optional(env, 'QG_DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('QG_DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }
  const masterKey = parseMasterKey(optional(env, 'QG_MASTER_KEY'));
  if (databaseUrl !== undefined && masterKey === undefined) {
    throw new ConfigError('QG_MASTER_KEY', 'is required with an external database (QG_DATABASE_URL); generate one with: openssl rand -base64 32');
  }
  const bootstrapAdminPassword = optional(env, 'QG_BOOTSTRAP_ADMIN_PASSWORD');
  if (bootstrapAdminPassword !== undefined && bootstrapAdminPassword.length < 12) {
    throw new ConfigError('QG_BOOTSTRAP_ADMIN_PASSWORD', 'must be at least 12 characters');
  }
  const publicUrl = parsePublicUrl(optional(env, 'QG_PUBLIC_URL'));
  const oidc = parseOidc(env, publicUrl);
  return {
    port: parsePort(optional(env, 'QG_PORT') ?? '8080'),
    host: optional(env, 'QG_HOST') ?? '0.0.0.0',
    databaseUrl,
    dataDir: optional(env, 'QG_DATA_DIR') ?? './data',
    masterKey,
    bootstrapAdminPassword,
    logLevel: parseLogLevel(optional(env, 'QG_LOG_LEVEL') ?? 'info'),
    operationTimeoutSeconds: parseSeconds('QG_OPERATION_TIMEOUT_SECONDS', optional(env, 'QG_OPERATION_TIMEOUT_SECONDS') ?? '60', 1, 3600),
    trustProxy: parseTrustProxy(optional(env, 'QG_TRUST_PROXY')),
    publicUrl,
    oidc,
    passwordLogin: parsePasswordLogin(optional(env, 'QG_PASSWORD_LOGIN'), oidc),
    smtpUrl: parseSmtpUrl(optional(env, 'QG_SMTP_URL')),
    apiDocs: parseOnOff('QG_API_DOCS', optional(env, 'QG_API_DOCS') ?? (env.NODE_ENV === 'production' ? 'off' : 'on')),
    metricsToken: parseMetricsToken(optional(env, 'QG_METRICS_TOKEN')),
  };
}

function parsePublicUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const url = parseUrl('QG_PUBLIC_URL', raw);
  if (url.search !== '' || url.hash !== '') throw new ConfigError('QG_PUBLIC_URL', 'must not carry a query or a fragment');
  return url.href.replace(/\/+$/, '');
}

function parseUrl(variable: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `"${raw}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(variable, 'must be an https:// URL');
  return url;
}

/** Loopback names and addresses: the only hosts an http:// issuer may have. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1';
}

function parseOidc(env: Env, publicUrl: string | undefined): OidcConfig | undefined {
  const rawIssuer = optional(env, 'QG_OIDC_ISSUER');
  if (rawIssuer === undefined) {
    for (const variable of ['QG_OIDC_CLIENT_ID', 'QG_OIDC_CLIENT_SECRET', 'QG_OIDC_ROLE_MAP']) {
      if (optional(env, variable) !== undefined) throw new ConfigError(variable, 'is set but QG_OIDC_ISSUER is not');
    }
    return undefined;
  }
  const issuer = parseUrl('QG_OIDC_ISSUER', rawIssuer);
  // Over plain HTTP anyone on the path could swap the discovery document and its keys, and sign any ID token.
  if (issuer.protocol === 'http:' && !isLoopbackHost(issuer.hostname)) {
    throw new ConfigError('QG_OIDC_ISSUER', 'must be an https:// URL (http:// only on a loopback host, for development)');
  }
  if (issuer.search !== '' || issuer.hash !== '') throw new ConfigError('QG_OIDC_ISSUER', 'must not carry a query or a fragment');
  const clientId = optional(env, 'QG_OIDC_CLIENT_ID');
  if (clientId === undefined) throw new ConfigError('QG_OIDC_CLIENT_ID', 'is required with QG_OIDC_ISSUER');
  if (publicUrl === undefined) throw new ConfigError('QG_PUBLIC_URL', 'is required with QG_OIDC_ISSUER: the redirect URI is QG_PUBLIC_URL/api/v1/auth/oidc/callback');
  const scopes = optional(env, 'QG_OIDC_SCOPES') ?? 'openid profile email';
  if (!scopes.split(/\s+/).includes('openid')) throw new ConfigError('QG_OIDC_SCOPES', 'must include openid');
  const rolesClaim = optional(env, 'QG_OIDC_ROLES_CLAIM') ?? 'groups';
  if (!/^[^.\s]+(\.[^.\s]+)*$/.test(rolesClaim)) throw new ConfigError('QG_OIDC_ROLES_CLAIM', 'must be a claim name or a dotted path such as realm_access.roles');
  return {
    // The issuer exactly as configured: openid-client compares it with the discovery document's `issuer`.
    issuer: rawIssuer,
    name: optional(env, 'QG_OIDC_NAME') ?? issuer.host,
    clientId,
    clientSecret: optional(env, 'QG_OIDC_CLIENT_SECRET'),
    scopes: scopes.split(/\s+/).join(' '),
    rolesClaim,
    roleMap: parseRoleMap(optional(env, 'QG_OIDC_ROLE_MAP')),
  };
}

/** `claim-value=role,…`; a value may appear more than once to grant several roles. */
export function parseRoleMap(raw: string | undefined): ReadonlyMap<string, readonly Role[]> {
  const map = new Map<string, Role[]>();
  if (raw === undefined) return map;
  for (const entry of raw.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const at = entry.lastIndexOf('=');
    const value = entry.slice(0, at).trim();
    const role = ROLES.find((r) => r === entry.slice(at + 1).trim());
    if (at < 1 || value === '') throw new ConfigError('QG_OIDC_ROLE_MAP', `"${entry}" is not claim-value=role`);
    if (role === undefined) throw new ConfigError('QG_OIDC_ROLE_MAP', `"${entry}": the role must be one of ${ROLES.join(', ')}`);
    const roles = map.get(value) ?? [];
    if (!roles.includes(role)) roles.push(role);
    map.set(value, roles);
  }
  return map;
}

function parsePasswordLogin(raw: string | undefined, oidc: OidcConfig | undefined): boolean {
  if (raw === undefined || raw === 'on') return true;
  if (raw !== 'off') throw new ConfigError('QG_PASSWORD_LOGIN', 'must be on or off');
  if (oidc === undefined) throw new ConfigError('QG_PASSWORD_LOGIN', 'off needs single sign-on (QG_OIDC_ISSUER), or nobody but the bootstrap admin could sign in');
  return false;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function parseTrustProxy(raw: string | undefined): false | number | string[] {
  if (raw === undefined) return false;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops < 1 || hops > 10) throw new ConfigError('QG_TRUST_PROXY', 'a number of proxy hops must be from 1 to 10');
    return hops;
  }
  // Believing every X-Forwarded-For would let any client choose the address the login throttle counts by.
  if (raw === 'true') throw new ConfigError('QG_TRUST_PROXY', 'name the proxies (addresses, subnets, loopback, uniquelocal) or their number of hops, not true');
  const entries = raw.split(',').map((e) => e.trim());
  for (const entry of entries) {
    if (!PROXY_NAMES.includes(entry) && !/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(entry)) {
      throw new ConfigError('QG_TRUST_PROXY', `"${entry}" is not an address, a subnet, or one of ${PROXY_NAMES.join(', ')}`);
    }
  }
  return entries;
}

function parseSmtpUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^smtps?:\/\/[^\s]+$/.test(raw)) throw new ConfigError('QG_SMTP_URL', 'must be an smtp:// or smtps:// URL (smtps://user:password@mail.example.com:465)');
  return raw;
}

function parseOnOff(variable: string, raw: string): boolean {
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(variable, `must be on or off, got "${raw}"`);
}

function parseMetricsToken(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length < 32 || !/^[\x21-\x7e]+$/.test(raw)) throw new ConfigError('QG_METRICS_TOKEN', 'must be at least 32 printable characters without spaces (openssl rand -hex 32)');
  return raw;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new ConfigError('QG_PORT', `must be a port number 0-65535, got "${raw}"`);
  return port;
}

function parseSeconds(variable: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new ConfigError(variable, `must be a whole number of seconds from ${min} to ${max}`);
  return value;
}

function parseLogLevel(raw: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === raw);
  if (level === undefined) throw new ConfigError('QG_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

export function parseMasterKey(raw: string | undefined, variable = 'QG_MASTER_KEY'): Buffer | undefined {
  if (raw === undefined) return undefined;
  const key = Buffer.from(raw, 'base64');
  if (key.length !== 32 || !/^[A-Za-z0-9+/=_-]+$/.test(raw)) {
    throw new ConfigError(variable, 'must be 32 bytes encoded in base64 (openssl rand -base64 32)');
  }
  return key;
}
