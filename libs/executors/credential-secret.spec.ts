import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { ExecutorError, validateCredentialConfig, validateCredentialSecret } from './index.js';

async function privateJwk(alg: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return exportJWK(privateKey);
}

async function refusal(kind: string, secret: Buffer): Promise<ExecutorError> {
  try {
    await validateCredentialSecret(kind, secret, {});
  } catch (error) {
    if (error instanceof ExecutorError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

function expectNoEcho(error: ExecutorError, ...secrets: string[]): void {
  for (const secret of secrets) {
    for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) {
      if (form.length >= 4) expect(error.message).not.toContain(form);
    }
  }
}

describe('validateCredentialSecret: signing-key', () => {
  let ec: JWK;
  let ed: JWK;
  let rsa: JWK;
  let otherRsa: JWK;

  beforeAll(async () => {
    [ec, ed, rsa, otherRsa] = await Promise.all([privateJwk('ES256'), privateJwk('EdDSA'), privateJwk('PS256'), privateJwk('PS256')]);
  });

  it.each([
    ['EC P-256', () => ec, 'ES256', ['kty', 'crv', 'x', 'y', 'kid']],
    ['Ed25519', () => ed, 'EdDSA', ['kty', 'crv', 'x', 'kid']],
    ['RSA', () => rsa, 'PS256', ['kty', 'n', 'e', 'kid']],
  ])('publishes only the public members of an %s key', async (_name, key, alg, members) => {
    const { publicInfo } = await validateCredentialSecret('signing-key', Buffer.from(JSON.stringify(key())), {});
    expect(publicInfo.alg).toBe(alg);
    expect(Object.keys(publicInfo.publicJwk as object).sort()).toEqual([...members].sort());
    expect(JSON.stringify(publicInfo)).not.toContain(key().d);
  });

  it('drops members that are not key material', async () => {
    const { publicInfo } = await validateCredentialSecret('signing-key', Buffer.from(JSON.stringify({ ...ec, use: 'sig', x5u: 'https://evil' })), {});
    expect(publicInfo.publicJwk).not.toHaveProperty('x5u');
  });

  const text = (make: () => string) => () => Buffer.from(make());
  const cases: [string, () => Buffer][] = [
    ['not JSON', text(() => `not json ${ec.d}`)],
    ['JSON but not an object', text(() => JSON.stringify([ec.d]))],
    ['a public JWK (no d)', text(() => JSON.stringify({ kty: ec.kty, crv: ec.crv, x: ec.x, y: ec.y }))],
    ['a symmetric JWK', text(() => JSON.stringify({ kty: 'oct', k: ec.d }))],
    ['an EC key on another curve', text(() => JSON.stringify({ ...ec, crv: 'P-384' }))],
    ['an OKP key that is not Ed25519', text(() => JSON.stringify({ ...ed, crv: 'X25519' }))],
    ['a d that is not base64url', text(() => JSON.stringify({ ...ec, d: `${ec.d}+/` }))],
    ['a d of the wrong size', text(() => JSON.stringify({ ...ec, d: `${ec.d}AA` }))],
    ['an EC d that does not match x, y', text(() => JSON.stringify({ ...ec, x: ed.x }))],
    ['an RSA key whose n belongs to another key', text(() => JSON.stringify({ ...rsa, n: otherRsa.n }))],
    ['an RSA key without CRT members', text(() => JSON.stringify({ kty: 'RSA', n: rsa.n, e: rsa.e, d: rsa.d }))],
    ['a key restricted to encryption', text(() => JSON.stringify({ ...ec, use: 'enc' }))],
    ['a key whose alg does not fit', text(() => JSON.stringify({ ...ec, alg: 'RS256' }))],
    ['an empty secret', () => Buffer.alloc(0)],
    ['invalid UTF-8', () => Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
  ];

  it.each(cases)('refuses %s with SECRET_INVALID, without echoing it', async (_name, make) => {
    const secret = make();
    const error = await refusal('signing-key', secret);
    expect(error.code).toBe('SECRET_INVALID');
    expectNoEcho(error, secret.toString('utf8'), ec.d!, rsa.d!);
  });

  it('refuses an RSA key under 2048 bits', async () => {
    const small = await exportJWK(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    const error = await refusal('signing-key', Buffer.from(JSON.stringify(small)));
    expect(error.code).toBe('SECRET_INVALID');
    expect(error.message).toContain('2048');
  });
});

describe('validateCredentialSecret: other kinds', () => {
  it.each([
    ['empty', Buffer.alloc(0)],
    ['with a trailing newline', Buffer.from('tok-123456\n')],
    ['with CR LF inside', Buffer.from('tok\r\nX-Evil: 1')],
    ['with NUL', Buffer.from('tok\u0000x')],
    ['non-ASCII', Buffer.from('tök-123456')],
    ['with a leading space', Buffer.from(' tok-123456')],
  ])('refuses an http-token %s', async (_name, secret) => {
    const error = await refusal('http-token', secret);
    expect(error.code).toBe('SECRET_INVALID');
    expectNoEcho(error, secret.toString('latin1').trim());
  });

  it('accepts a printable http-token and publishes nothing', async () => {
    expect(await validateCredentialSecret('http-token', Buffer.from('qg_live_0123456789abcdef'), {})).toEqual({ publicInfo: {} });
  });

  it.each(['kubeconfig', 'ssh-key', 'postgres'])('%s: refuses an empty secret (kind-specific checks in their executor specs)', async (kind) => {
    expect((await refusal(kind, Buffer.alloc(0))).code).toBe('SECRET_INVALID');
  });

  it('refuses a kubeconfig that is not one, and an ssh-key that is not a private key', async () => {
    expect((await refusal('kubeconfig', Buffer.from('x'))).code).toBe('SECRET_INVALID');
    expect((await refusal('ssh-key', Buffer.from('x'))).code).toBe('SECRET_INVALID');
  });

  it('refuses an unknown credential kind', async () => {
    expect((await refusal('password', Buffer.from('x'))).code).toBe('KIND_UNSUPPORTED');
  });
});

describe('validateCredentialConfig', () => {
  it('fills the http defaults', () => {
    expect(validateCredentialConfig('http-token', { baseUrl: 'https://admin.internal/api' })).toEqual({
      baseUrl: 'https://admin.internal/api',
      header: 'Authorization',
      scheme: 'Bearer',
    });
  });

  it('takes no config for a signing-key', () => {
    expect(validateCredentialConfig('signing-key', {})).toEqual({});
    expect(validateCredentialConfig('signing-key', undefined)).toEqual({});
    expect(() => validateCredentialConfig('signing-key', { x: 1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('checks the config of kubeconfig, ssh-key and postgres credentials with their executor', () => {
    expect(validateCredentialConfig('kubeconfig', undefined)).toEqual({});
    expect(validateCredentialConfig('postgres', { host: 'db', database: 'app', user: 'ro' })).toEqual({ host: 'db', port: 5432, database: 'app', user: 'ro', ssl: true });
    expect(() => validateCredentialConfig('postgres', 'db:5432')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => validateCredentialConfig('ssh-key', { host: 'web-1', username: 'ops' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('refuses an unknown credential kind', () => {
    expect(() => validateCredentialConfig('password', {})).toThrow(expect.objectContaining({ code: 'KIND_UNSUPPORTED' }));
  });
});
