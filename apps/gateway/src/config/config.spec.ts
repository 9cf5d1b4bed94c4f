import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  const oidc = { QG_OIDC_ISSUER: 'https://idp.example.com/realms/acme', QG_OIDC_CLIENT_ID: 'quorumgate', QG_PUBLIC_URL: 'https://qg.example.com/' };

  it('applies the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({ port: 8080, databaseUrl: undefined, dataDir: './data', masterKey: undefined, logLevel: 'info', trustProxy: false, apiDocs: true, metricsToken: undefined });
  });

  it('turns the API docs off by default in production, and on again with QG_API_DOCS=on', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).apiDocs).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', QG_API_DOCS: 'on' }).apiDocs).toBe(true);
    expect(loadConfig({ QG_API_DOCS: 'off' }).apiDocs).toBe(false);
  });

  it.each([
    [{ QG_PORT: 'eighty' }, 'QG_PORT'],
    [{ QG_PORT: '70000' }, 'QG_PORT'],
    [{ QG_DATABASE_URL: 'mysql://x' }, 'QG_DATABASE_URL'],
    [{ QG_DATABASE_URL: 'postgres://db/qg' }, 'QG_MASTER_KEY'],
    [{ QG_MASTER_KEY: 'c2hvcnQ=' }, 'QG_MASTER_KEY'],
    [{ QG_LOG_LEVEL: 'loud' }, 'QG_LOG_LEVEL'],
    [{ QG_BOOTSTRAP_ADMIN_PASSWORD: 'short' }, 'QG_BOOTSTRAP_ADMIN_PASSWORD'],
    [{ QG_TRUST_PROXY: 'true' }, 'QG_TRUST_PROXY'],
    [{ QG_TRUST_PROXY: '0' }, 'QG_TRUST_PROXY'],
    [{ QG_TRUST_PROXY: 'nginx' }, 'QG_TRUST_PROXY'],
    [{ QG_PUBLIC_URL: 'ftp://qg.example.com' }, 'QG_PUBLIC_URL'],
    [{ ...oidc, QG_OIDC_ISSUER: 'http://idp.example.com' }, 'QG_OIDC_ISSUER'],
    [{ ...oidc, QG_OIDC_ISSUER: 'not a url' }, 'QG_OIDC_ISSUER'],
    [{ ...oidc, QG_OIDC_CLIENT_ID: undefined }, 'QG_OIDC_CLIENT_ID'],
    [{ ...oidc, QG_PUBLIC_URL: undefined }, 'QG_PUBLIC_URL'],
    [{ ...oidc, QG_OIDC_ROLE_MAP: 'sre=root' }, 'QG_OIDC_ROLE_MAP'],
    [{ ...oidc, QG_OIDC_ROLE_MAP: 'operator' }, 'QG_OIDC_ROLE_MAP'],
    [{ ...oidc, QG_OIDC_SCOPES: 'profile email' }, 'QG_OIDC_SCOPES'],
    [{ QG_OIDC_CLIENT_ID: 'quorumgate' }, 'QG_OIDC_CLIENT_ID'],
    [{ QG_PASSWORD_LOGIN: 'off' }, 'QG_PASSWORD_LOGIN'],
    [{ ...oidc, QG_PASSWORD_LOGIN: 'no' }, 'QG_PASSWORD_LOGIN'],
    [{ QG_PUBLIC_URL: 'quorumgate.example.com' }, 'QG_PUBLIC_URL'],
    [{ QG_PUBLIC_URL: 'ftp://quorumgate.example.com' }, 'QG_PUBLIC_URL'],
    [{ QG_PUBLIC_URL: 'https://qg.example.com/?x=1' }, 'QG_PUBLIC_URL'],
    [{ QG_SMTP_URL: 'mail.example.com' }, 'QG_SMTP_URL'],
    [{ QG_API_DOCS: 'yes' }, 'QG_API_DOCS'],
    [{ QG_METRICS_TOKEN: 'short' }, 'QG_METRICS_TOKEN'],
    [{ QG_METRICS_TOKEN: 'a'.repeat(31) + ' b' }, 'QG_METRICS_TOKEN'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });

  it.each([
    ['1', 1],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, fd00::/8,uniquelocal', ['10.0.0.0/8', 'fd00::/8', 'uniquelocal']],
  ])('reads QG_TRUST_PROXY %j as %j', (raw, trustProxy) => {
    expect(loadConfig({ QG_TRUST_PROXY: raw }).trustProxy).toEqual(trustProxy);
  });

  it('reads QG_PUBLIC_URL without its trailing slash, and QG_SMTP_URL', () => {
    const config = loadConfig({ QG_PUBLIC_URL: 'https://qg.example.com/', QG_SMTP_URL: 'smtps://u:p@mail.example.com:465' });
    expect(config.publicUrl).toBe('https://qg.example.com');
    expect(config.smtpUrl).toBe('smtps://u:p@mail.example.com:465');
  });

  it('accepts an external database with a master key', () => {
    const config = loadConfig({ QG_DATABASE_URL: 'postgres://db/qg', QG_MASTER_KEY: key });
    expect(config.masterKey?.length).toBe(32);
  });

  it('reads single sign-on: defaults, the role map, and an http:// issuer only on loopback', () => {
    const config = loadConfig({ ...oidc, QG_OIDC_ROLE_MAP: 'qg-admins=admin, sre=operator,sre=requester', QG_PASSWORD_LOGIN: 'off' });
    expect(config.publicUrl).toBe('https://qg.example.com');
    expect(config.passwordLogin).toBe(false);
    expect(config.oidc).toMatchObject({ issuer: oidc.QG_OIDC_ISSUER, name: 'idp.example.com', clientId: 'quorumgate', clientSecret: undefined, scopes: 'openid profile email', rolesClaim: 'groups' });
    expect([...(config.oidc?.roleMap ?? [])]).toEqual([
      ['qg-admins', ['admin']],
      ['sre', ['operator', 'requester']],
    ]);
    for (const issuer of ['http://localhost:9000', 'http://127.0.0.1:9000/x', 'http://[::1]:9000']) {
      expect(loadConfig({ ...oidc, QG_OIDC_ISSUER: issuer }).oidc?.issuer).toBe(issuer);
    }
    expect(loadConfig({}).oidc).toBeUndefined();
    expect(loadConfig({}).passwordLogin).toBe(true);
  });
});
