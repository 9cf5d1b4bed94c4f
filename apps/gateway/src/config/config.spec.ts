import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

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

  it('accepts an external database with a master key', () => {
    const config = loadConfig({ QG_DATABASE_URL: 'postgres://db/qg', QG_MASTER_KEY: key });
    expect(config.masterKey?.length).toBe(32);
  });
});
