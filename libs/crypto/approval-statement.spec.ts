import { createHmac } from 'node:crypto';
import { CompactSign, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { CryptoError, verifyApprovalStatement, type ApprovalClaims } from './index.js';

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

const b64u = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

interface Signer {
  publicJwk: JWK;
  kid: string;
  sign(payload: unknown, header?: Record<string, unknown>): Promise<string>;
}

async function makeSigner(): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return {
    publicJwk,
    kid,
    sign: (payload, header = {}) =>
      new CompactSign(Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)))
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'qg-approval+jwt', ...header })
        .sign(privateKey),
  };
}

describe('verifyApprovalStatement', () => {
  const now = 1_900_000_000;
  const expected = { req: 'req_1', digest: 'dGhlLWRpZ2VzdA', sub: 'user_1' };
  const claims: ApprovalClaims = { ...expected, decision: 'approve', iat: now };
  let alice: Signer;
  let mallory: Signer;

  beforeAll(async () => {
    alice = await makeSigner();
    mallory = await makeSigner();
  });

  it('returns the claims of a valid statement, approve or reject', async () => {
    expect(await verifyApprovalStatement(await alice.sign(claims), alice.publicJwk, expected, now)).toEqual(claims);
    const reject = { ...claims, decision: 'reject' };
    expect(await verifyApprovalStatement(await alice.sign(reject), alice.publicJwk, expected, now)).toEqual(reject);
  });

  it('accepts iat within ±300 s and refuses it beyond with STATEMENT_STALE', async () => {
    for (const skew of [-300, -299, 0, 299, 300]) {
      const jws = await alice.sign({ ...claims, iat: now + skew });
      await expect(verifyApprovalStatement(jws, alice.publicJwk, expected, now)).resolves.toMatchObject({ iat: now + skew });
    }
    for (const skew of [-301, 301, -86_400, 86_400]) {
      const jws = await alice.sign({ ...claims, iat: now + skew });
      expect(await codeOf(() => verifyApprovalStatement(jws, alice.publicJwk, expected, now))).toBe('STATEMENT_STALE');
    }
  });

  it('refuses a statement by another key: STATEMENT_KEY_MISMATCH by kid, STATEMENT_INVALID by signature', async () => {
    const byMallory = await mallory.sign(claims);
    expect(await codeOf(() => verifyApprovalStatement(byMallory, alice.publicJwk, expected, now))).toBe('STATEMENT_KEY_MISMATCH');
    const forgedKid = await mallory.sign(claims, { kid: alice.kid });
    expect(await codeOf(() => verifyApprovalStatement(forgedKid, alice.publicJwk, expected, now))).toBe('STATEMENT_INVALID');
    const noKid = `${b64u({ alg: 'ES256', typ: 'qg-approval+jwt' })}.${(await alice.sign(claims)).split('.').slice(1).join('.')}`;
    expect(await codeOf(() => verifyApprovalStatement(noKid, alice.publicJwk, expected, now))).toBe('STATEMENT_KEY_MISMATCH');
  });

  it('refuses alg none, HS256 and other algorithms or headers with STATEMENT_INVALID', async () => {
    const header = { kid: alice.kid, typ: 'qg-approval+jwt' };
    const hs256 = (key: Buffer) => {
      const input = `${b64u({ alg: 'HS256', ...header })}.${b64u(claims)}`;
      return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
    };
    const valid = await alice.sign(claims);
    const [, payload, signature] = valid.split('.');
    const es384 = await generateKeyPair('ES384');
    const cases: [string, string][] = [
      ['alg none', `${b64u({ alg: 'none', ...header })}.${b64u(claims)}.`],
      ['alg none with signature', `${b64u({ alg: 'none', ...header })}.${payload}.${signature}`],
      ['HS256 keyed with the public JWK', hs256(Buffer.from(JSON.stringify(alice.publicJwk)))],
      ['HS256 keyed with x', hs256(Buffer.from(alice.publicJwk.x!, 'base64url'))],
      ['ES384', await new CompactSign(Buffer.from(JSON.stringify(claims))).setProtectedHeader({ alg: 'ES384', ...header }).sign(es384.privateKey)],
      ['alg relabelled', `${b64u({ alg: 'ES384', ...header })}.${payload}.${signature}`],
      ['typ JWT', await alice.sign(claims, { typ: 'JWT' })],
      ['typ missing', await alice.sign(claims, { typ: undefined })],
      ['crit b64', await alice.sign(claims, { crit: ['b64'], b64: true })],
      ['embedded jwk', await alice.sign(claims, { jwk: alice.publicJwk })],
    ];
    for (const [label, jws] of cases) {
      expect([label, await codeOf(() => verifyApprovalStatement(jws, alice.publicJwk, expected, now))]).toEqual([
        label,
        'STATEMENT_INVALID',
      ]);
    }
  });

  it('refuses malformed or tampered statements with STATEMENT_INVALID', async () => {
    const valid = await alice.sign(claims);
    const [h, p, s] = valid.split('.') as [string, string, string];
    const otherPayload = (await alice.sign({ ...claims, decision: 'reject' })).split('.')[1];
    const cases: [string, string][] = [
      ['empty', ''],
      ['two segments', `${h}.${p}`],
      ['four segments', `${valid}.x`],
      ['truncated signature', `${h}.${p}.${s.slice(0, -4)}`],
      ['no signature', `${h}.${p}.`],
      ['flipped signature', `${h}.${p}.${(s[0] === 'A' ? 'B' : 'A') + s.slice(1)}`],
      ['swapped payload', `${h}.${otherPayload}.${s}`],
      ['header not JSON', `${b64u('nope')}.${p}.${s}`],
      ['payload not JSON', await alice.sign('not json')],
      ['payload array', await alice.sign([claims])],
      ['payload missing sub', await alice.sign({ ...claims, sub: undefined })],
      ['payload extra member', await alice.sign({ ...claims, exp: now + 60 })],
      ['iat as string', await alice.sign({ ...claims, iat: String(now) })],
      ['iat fractional', await alice.sign({ ...claims, iat: now + 0.5 })],
      ['digest as number', await alice.sign({ ...claims, digest: 1 })],
      ['a JWE', `${h}..${p}.${p}.${s}`],
    ];
    for (const [label, jws] of cases) {
      expect([label, await codeOf(() => verifyApprovalStatement(jws, alice.publicJwk, expected, now))]).toEqual([
        label,
        'STATEMENT_INVALID',
      ]);
    }
  });

  it('refuses another request, digest, user or decision with STATEMENT_CLAIMS_MISMATCH', async () => {
    const cases: Record<string, unknown>[] = [
      { ...claims, req: 'req_2' },
      { ...claims, digest: 'b3RoZXI' },
      { ...claims, digest: '' },
      { ...claims, sub: 'user_2' },
      { ...claims, decision: 'maybe' },
      { ...claims, decision: 'APPROVE' },
    ];
    for (const payload of cases) {
      const jws = await alice.sign(payload);
      expect(await codeOf(() => verifyApprovalStatement(jws, alice.publicJwk, expected, now))).toBe('STATEMENT_CLAIMS_MISMATCH');
    }
  });

  it('refuses a signing key that carries a private member', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const jws = await alice.sign(claims);
    expect(await codeOf(() => verifyApprovalStatement(jws, privateJwk, expected, now))).toBe('JWK_PRIVATE_MEMBER');
  });
});
