import { randomBytes } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CompactSign } from 'jose';
import { computeShareCommitment, CryptoError, generateDataKey, sealShareToCustodian, sealToPublicKey, splitDataKey, verifyCheckInStatement } from '../crypto/index.js';
import { CustodianError, exportPublicJwks, generateCustodianKeys, prepareCheckIn, shareCommitment, type CheckInShare, type CustodianKeys } from './index.js';

const CRED = '6f1c7c1e-1f7e-4d8e-9a55-1d3b3b0c2a10';
const SUB = '0e4b2f9a-4b8e-4f0e-8c1a-2f5d7e9b1c33';
const NOW = 1_800_000_000;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof CryptoError || e instanceof CustodianError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

describe('check-ins (spec §4a): prepared on the custodian side, verified on the gateway side', () => {
  let keys: CustodianKeys;
  let jwks: Awaited<ReturnType<typeof exportPublicJwks>>;
  let shares: Buffer[];
  let envelope: string;
  const nonce = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    keys = await generateCustodianKeys();
    jwks = await exportPublicJwks(keys);
    shares = splitDataKey(generateDataKey(), 3, 2);
    envelope = await sealShareToCustodian(shares[1]!, jwks.encryptionKey, { cred: CRED, ver: 1, idx: 2 });
  });

  const custodianKeys = () => ({ encryptionPrivateKey: keys.encryption.privateKey, signingPrivateKey: keys.signing.privateKey, signingKid: jwks.signingThumbprint });
  const challenge = (header: Record<string, string | number> = { cred: CRED, ver: 1, purpose: 'check-in' }, text = nonce) => sealToPublicKey(Buffer.from(text), jwks.encryptionKey, header);

  it('computes the same commitment as the gateway, with and without a group', async () => {
    expect(await shareCommitment({ cred: CRED, ver: 1, idx: 2, share: shares[1]! })).toBe(computeShareCommitment({ cred: CRED, ver: 1, idx: 2, share: shares[1]! }));
  });

  it('signs a statement the gateway verifies, carrying the commitment and the nonce', async () => {
    const { statement, commitment } = await prepareCheckIn({ credentialId: CRED, share: { envelope, index: 2, version: 1, challenge: await challenge() }, userId: SUB, keys: custodianKeys(), nowSeconds: NOW });
    const claims = await verifyCheckInStatement(statement, jwks.signingKey, { sub: SUB, cred: CRED }, NOW + 10);
    expect(claims).toEqual({ cred: CRED, ver: 1, idx: 2, commitment, nonce, sub: SUB, iat: NOW });
    expect(commitment).toBe(computeShareCommitment({ cred: CRED, ver: 1, idx: 2, share: shares[1]! }));
  });

  it.each([
    ['another credential', { credentialId: '00000000-0000-4000-8000-000000000000' }, 'SHARE_HEADER_MISMATCH'],
    ['another index', { index: 3 }, 'SHARE_HEADER_MISMATCH'],
    ['another version', { version: 2 }, 'SHARE_HEADER_MISMATCH'],
  ])('refuses an envelope for %s', async (_, change: Record<string, string | number>, code) => {
    const { credentialId = CRED, ...share } = { envelope, index: 2, version: 1, challenge: await challenge(), ...change } as CheckInShare & { credentialId?: string };
    expect(await codeOf(prepareCheckIn({ credentialId, share, userId: SUB, keys: custodianKeys(), nowSeconds: NOW }))).toBe(code);
  });

  it('refuses a challenge for another purpose or credential, or one holding no nonce', async () => {
    const base = { envelope, index: 2, version: 1 };
    const run = async (c: string) => codeOf(prepareCheckIn({ credentialId: CRED, share: { ...base, challenge: c }, userId: SUB, keys: custodianKeys(), nowSeconds: NOW }));
    expect(await run(await challenge({ cred: CRED, ver: 1, purpose: 'rotate' }))).toBe('SHARE_HEADER_MISMATCH');
    expect(await run(await challenge({ cred: SUB, ver: 1, purpose: 'check-in' }))).toBe('SHARE_HEADER_MISMATCH');
    expect(await run(await challenge(undefined, 'not a nonce'))).toBe('SHARE_ENVELOPE_INVALID');
    expect(await run('a.b.c.d.e')).toBe('SHARE_ENVELOPE_INVALID');
  });

  it('refuses hostile statements with a stable code', async () => {
    const good = { cred: CRED, ver: 1, idx: 2, commitment: 'ab'.repeat(32), nonce, sub: SUB, iat: NOW };
    const sign = (payload: unknown, header: Record<string, unknown> = { alg: 'ES256', kid: jwks.signingThumbprint, typ: 'qg-checkin+jwt' }) =>
      new CompactSign(Buffer.from(canonicalize(payload) ?? '')).setProtectedHeader(header as { alg: string }).sign(keys.signing.privateKey);
    const verify = async (jws: string | Promise<string>, now = NOW) => codeOf(verifyCheckInStatement(await jws, jwks.signingKey, { sub: SUB, cred: CRED }, now));
    expect(await verify(sign(good))).toBe('NO_ERROR');
    expect(await verify(sign({ ...good, grp: 0 }))).toBe('NO_ERROR');
    expect(await verify(sign(good), NOW + 301)).toBe('STATEMENT_STALE');
    expect(await verify(sign(good), NOW - 301)).toBe('STATEMENT_STALE');
    expect(await verify(sign({ ...good, sub: CRED }))).toBe('STATEMENT_CLAIMS_MISMATCH');
    expect(await verify(sign({ ...good, cred: SUB }))).toBe('STATEMENT_CLAIMS_MISMATCH');
    expect(await verify(sign({ ...good, extra: 1 }))).toBe('STATEMENT_INVALID');
    expect(await verify(sign({ ...good, ver: '1' }))).toBe('STATEMENT_INVALID');
    const { nonce: _dropped, ...noNonce } = good;
    expect(await verify(sign(noNonce))).toBe('STATEMENT_INVALID');
    expect(await verify(sign(good, { alg: 'ES256', kid: jwks.signingThumbprint, typ: 'qg-approval+jwt' }))).toBe('STATEMENT_INVALID');
    expect(await verify(sign(good, { alg: 'ES256', kid: jwks.encryptionThumbprint, typ: 'qg-checkin+jwt' }))).toBe('STATEMENT_KEY_MISMATCH');
    const other = await generateCustodianKeys();
    const forged = await new CompactSign(Buffer.from(canonicalize(good) ?? '')).setProtectedHeader({ alg: 'ES256', kid: jwks.signingThumbprint, typ: 'qg-checkin+jwt' }).sign(other.signing.privateKey);
    expect(await verify(forged)).toBe('STATEMENT_INVALID');
  });
});
