import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'quorumgate-test';
export const CLIENT_SECRET = 'client-secret-for-tests-only-0123456789';

/** The claims a test gives one account at the provider (the login name is the `sub`). */
export type AccountClaims = Record<string, unknown>;

export interface TestProvider {
  issuer: string;
  /** login name → claims; change an entry and the next login carries the new claims. */
  accounts: Map<string, AccountClaims>;
  close(): Promise<void>;
}

/** A free loopback port (for a server that must know its own address before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A real OpenID provider (node-oidc-provider, the certified server library) in
 * the test process: its own login page (any password), consent granted
 * automatically, claims from `accounts`, put into the ID token.
 */
export async function startTestProvider(redirectUri: string): Promise<TestProvider> {
  const server = createServer();
  const issuer = await listen(server);
  const accounts = new Map<string, AccountClaims>();
  // The library warns, rightly, that its in-memory store, dev keys and dev login page are for development: that is this.
  const warn = console.warn;
  console.warn = () => undefined;
  const provider = new Provider(issuer, {
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username', 'groups', 'roles'], email: ['email'] },
    conformIdTokenClaims: false,
    cookies: { keys: ['cookie-key-for-tests-only'] },
    features: { devInteractions: { enabled: true } },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 300, IdToken: 300, AuthorizationCode: 60 },
    findAccount: (_ctx, sub) => {
      const claims = accounts.get(sub);
      if (claims === undefined) return undefined;
      return { accountId: sub, claims: () => ({ ...claims, sub }) };
    },
    loadExistingGrant: async (ctx) => {
      const { client, session } = ctx.oidc;
      if (client === undefined || session?.accountId === undefined) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid profile email');
      await grant.save();
      return grant;
    },
  });
  console.warn = warn;
  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => void callback(req, res));
  return { issuer, accounts, close: () => closeServer(server) };
}

/** A browser's cookies, per origin, enough for a redirect dance through fetch. */
export class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  header(url: string): string {
    return [...(this.cookies.get(new URL(url).host) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(url: string, name: string): string | undefined {
    return this.cookies.get(new URL(url).host)?.get(name);
  }

  set(url: string, name: string, value: string): void {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    jar.set(name, value);
    this.cookies.set(host, jar);
  }

  take(url: string, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = /max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '';
      const host = new URL(url).host;
      const jar = this.cookies.get(host) ?? new Map<string, string>();
      if (expired) jar.delete(name);
      else jar.set(name, value);
      this.cookies.set(host, jar);
    }
  }
}

/** One step of a browser: GET or POST with the jar's cookies, no redirect followed. */
export async function browse(jar: CookieJar, url: string, init: { method?: string; form?: Record<string, string>; accept?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { cookie: jar.header(url), accept: init.accept ?? 'application/json' };
  let body: string | undefined;
  if (init.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual' });
  jar.take(url, res.headers);
  return res;
}

/**
 * Drives a sign-in through the gateway and the provider's own login form, and
 * stops at the callback URL the provider sends the browser back to (not yet
 * called): the caller decides what to do with it.
 */
export async function signInAtProvider(jar: CookieJar, gatewayUrl: string, login: string): Promise<string> {
  const start = await browse(jar, `${gatewayUrl}/api/v1/auth/oidc/login`);
  expectRedirect(start, 303);
  let location = start.headers.get('location')!;
  // authorization endpoint → interaction (login form) → submit → resume → callback
  for (let hops = 0; hops < 10; hops++) {
    if (location.startsWith(`${gatewayUrl}/api/v1/auth/oidc/callback`)) return location;
    const interaction = /\/interaction\/([^/?]+)$/.exec(new URL(location).pathname);
    const res =
      interaction !== null
        ? await browse(jar, location).then(async (page) => {
            const html = await page.text();
            const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
            if (action === undefined) throw new Error(`no login form at ${location}: ${html.slice(0, 200)}`);
            return browse(jar, new URL(action, location).href, { form: { prompt: 'login', login, password: 'any-password' } });
          })
        : await browse(jar, location);
    if (res.status < 300 || res.status >= 400) throw new Error(`${location} answered ${res.status}: ${await res.text()}`);
    location = new URL(res.headers.get('location')!, location).href;
  }
  throw new Error('no callback after 10 redirects');
}

function expectRedirect(res: Response, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}`);
}

/**
 * A hostile provider: discovery, JWKS and a token endpoint that answers any code
 * with an ID token built from `nextIdToken`, signed with the provider's own key
 * (RS256, the default algorithm). For the cases a certified provider never
 * produces: another audience, an expired token, a wrong nonce.
 */
export interface HostileProvider {
  issuer: string;
  /** The claims of the ID token the next token request gets (exp/iat in unix seconds). */
  nextIdToken: Record<string, unknown>;
  close(): Promise<void>;
}

export async function startHostileProvider(): Promise<HostileProvider> {
  const server = createServer();
  const issuer = await listen(server);
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: 'hostile-1', alg: 'RS256', use: 'sig' };
  const hostile: HostileProvider = { issuer, nextIdToken: {}, close: () => closeServer(server) };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (path === '/.well-known/openid-configuration') {
      json(200, {
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
      });
    } else if (path === '/jwks') {
      json(200, { keys: [publicJwk] });
    } else if (path === '/token' && req.method === 'POST') {
      req.resume();
      req.on('end', () => {
        const { alg: _alg, ...claims } = hostile.nextIdToken;
        void new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid: 'hostile-1' })
          .sign(privateKey)
          .then((idToken) => json(200, { access_token: 'hostile-access-token', token_type: 'Bearer', expires_in: 300, id_token: idToken }));
      });
    } else {
      json(404, { error: 'not_found' });
    }
  });
  return hostile;
}
