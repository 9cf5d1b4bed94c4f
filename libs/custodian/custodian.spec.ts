import { readdirSync, readFileSync } from 'node:fs';
import { exportJWK, generateKeyPair } from 'jose';
import {
  combineShares,
  computeRequestDigest,
  computeShareCommitment,
  generateDataKey,
  generateRequestKeyPair,
  openSealedSecret,
  openShareForRequest,
  sealSecret,
  sealShareToCustodian,
  splitDataKey,
  verifyApprovalStatement,
  verifyShareCommitment,
  type RequestDigestInput,
} from '../crypto/index.js';
import {
  CustodianError,
  computeDigest,
  exportPublicJwks,
  generateCustodianKeys,
  openOwnShare,
  prepareDecision,
  sealShareToRequestKey,
  signApprovalStatement,
  type CustodianKeys,
  type PrepareDecisionInput,
} from './index.js';

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof CustodianError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

const NOW = 1_900_000_000;

const SEALED_META = { cred: 'cred_1', ver: 1, kind: 'http-token', config: { baseUrl: 'https://api.example.com' } };

function digestInputFor(id: string): RequestDigestInput {
  return {
    id,
    credential: { id: 'cred_1', version: 1 },
    policy: { id: 'pol_1', sha256: '0f'.repeat(32) },
    operation: { kind: 'http', params: { method: 'POST', path: '/admin/rotate/db', body: { n: 1.5, tag: 'é€😀' } } },
    requester: 'svc_deploy',
    reason: 'rotate the database password',
    expiresAt: new Date((NOW + 3600) * 1000).toISOString(),
  };
}

interface Custodian {
  userId: string;
  keys: CustodianKeys;
  signingKid: string;
  envelope: string;
  index: number;
}

/** The gateway's side of "create a credential", with libs/crypto. */
async function createCredential(secret: Buffer, threshold: number, n: number) {
  const dataKey = generateDataKey();
  const sealed = await sealSecret(secret, dataKey, SEALED_META);
  const shares = splitDataKey(dataKey, n, threshold);
  const custodians: Custodian[] = [];
  const commitments = new Map<number, string>();
  for (const [i, share] of shares.entries()) {
    const keys = await generateCustodianKeys();
    const pub = await exportPublicJwks(keys);
    const idx = i + 1;
    const envelope = await sealShareToCustodian(share, pub.encryptionKey, { cred: 'cred_1', ver: 1, idx });
    commitments.set(idx, computeShareCommitment({ cred: 'cred_1', ver: 1, idx, share }));
    custodians.push({ userId: `user_${idx}`, keys, signingKid: pub.signingThumbprint, envelope, index: idx });
  }
  return { sealed, custodians, commitments };
}

async function submitRequest(id = 'req_1') {
  const digestInput = digestInputFor(id);
  const { publicJwk, privateJwk } = await generateRequestKeyPair();
  const request = { id, digest: computeRequestDigest(digestInput), digestInput, requestKey: publicJwk };
  return { request, privateJwk };
}

function decisionInput(
  c: Custodian,
  request: PrepareDecisionInput['request'],
  decision: 'approve' | 'reject' = 'approve',
): PrepareDecisionInput {
  return {
    request,
    shareEnvelope: { envelope: c.envelope, index: c.index },
    decision,
    userId: c.userId,
    keys: { encryptionPrivateKey: c.keys.encryption.privateKey, signingPrivateKey: c.keys.signing.privateKey, signingKid: c.signingKid },
    nowSeconds: NOW,
  };
}

describe('computeDigest', () => {
  it('equals libs/crypto computeRequestDigest', async () => {
    const inputs = [
      digestInputFor('req_1'),
      { ...digestInputFor('req_2'), operation: { kind: 'sql.exec', params: { sql: 'select 1', readOnly: true, z: [1, 1e21, null] } } },
      { ...digestInputFor('req_3'), reason: '' },
    ];
    for (const input of inputs) expect(await computeDigest(input)).toBe(computeRequestDigest(input));
  });

  it('refuses a digestInput with missing or extra members (DIGEST_INPUT_INVALID)', async () => {
    const base = digestInputFor('req_1');
    const noReason: Partial<RequestDigestInput> = { ...base };
    delete noReason.reason;
    const cases: object[] = [
      noReason,
      { ...base, hidden: 'not shown to the custodian' },
      { ...base, credential: { id: 'cred_1', version: 1, extra: 1 } },
      { ...base, operation: { kind: 'http' } },
      { ...base, credential: { id: 'cred_1', version: '1' } },
      { ...base, policy: undefined },
      { ...base, policy: { id: 'pol_1' } },
      { ...base, policy: { id: 'pol_1', sha256: 'x'.repeat(64) } },
      { ...base, policy: { id: 'pol_1', sha256: '0f'.repeat(32), name: 'hidden' } },
    ];
    for (const input of cases) expect(await codeOf(() => computeDigest(input))).toBe('DIGEST_INPUT_INVALID');
  });
});

describe('custodian keys', () => {
  it('are non-extractable by default, public halves exportable', async () => {
    const keys = await generateCustodianKeys();
    expect(keys.encryption.privateKey.extractable).toBe(false);
    expect(keys.signing.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', keys.signing.privateKey)).rejects.toThrow();
    const pub = await exportPublicJwks(keys);
    expect(Object.keys(pub.encryptionKey).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(pub.signingKey).not.toHaveProperty('d');
    expect(pub.signingThumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const extractable = await generateCustodianKeys({ extractable: true });
    expect((await crypto.subtle.exportKey('jwk', extractable.encryption.privateKey)).d).toEqual(expect.any(String));
  });
});

describe('share round trip between libs/crypto and libs/custodian', () => {
  it('custodian envelope → openOwnShare (non-extractable key) → sealShareToRequestKey → openShareForRequest', async () => {
    const keys = await generateCustodianKeys();
    const pub = await exportPublicJwks(keys);
    const share = splitDataKey(generateDataKey(), 3, 2)[2];
    const envelope = await sealShareToCustodian(share, pub.encryptionKey, { cred: 'cred_1', ver: 4, idx: 3 });

    const opened = await openOwnShare(envelope, keys.encryption.privateKey);
    expect(opened.header).toEqual({ cred: 'cred_1', ver: 4, idx: 3, kid: pub.encryptionThumbprint });
    expect(Buffer.from(opened.share).equals(share)).toBe(true);

    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    const forRequest = await sealShareToRequestKey(opened.share, publicJwk, { req: 'req_1', idx: 3, digest: 'digest-1' });
    expect((await openShareForRequest(forRequest, privateJwk, { req: 'req_1', idx: 3, digest: 'digest-1' })).equals(share)).toBe(true);
  });

  it('openOwnShare refuses another custodian’s envelope and hostile envelopes (SHARE_ENVELOPE_INVALID)', async () => {
    const mine = await generateCustodianKeys();
    const theirs = await generateCustodianKeys();
    const share = splitDataKey(generateDataKey(), 3, 2)[0];
    const envelope = await sealShareToCustodian(share, (await exportPublicJwks(mine)).encryptionKey, { cred: 'c', ver: 1, idx: 1 });
    expect(await codeOf(() => openOwnShare(envelope, theirs.encryption.privateKey))).toBe('SHARE_ENVELOPE_INVALID');
    const parts = envelope.split('.');
    const hostile = [
      '',
      parts.slice(0, 4).join('.'),
      ...parts.map((p, i) => parts.map((q, j) => (i === j ? (p[0] === 'A' ? 'B' : 'A') + p.slice(1) : q)).join('.')),
    ];
    for (const h of hostile) expect(await codeOf(() => openOwnShare(h, mine.encryption.privateKey))).toBe('SHARE_ENVELOPE_INVALID');
  });

  it('sealShareToRequestKey refuses request keys that are private, not P-256 or with a foreign kid', async () => {
    const share = splitDataKey(generateDataKey(), 3, 2)[0];
    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    const p384 = await exportJWK((await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-384' })).publicKey);
    for (const bad of [privateJwk, p384, { ...publicJwk, kid: 'other' }, { ...publicJwk, y: publicJwk.x }, { ...publicJwk, use: 'sig' }]) {
      expect(await codeOf(() => sealShareToRequestKey(share, bad, { req: 'req_1', idx: 1, digest: 'digest-1' }))).toBe('REQUEST_KEY_INVALID');
    }
  });
});

describe('signApprovalStatement', () => {
  it('produces statements that libs/crypto verifyApprovalStatement accepts', async () => {
    const keys = await generateCustodianKeys();
    const pub = await exportPublicJwks(keys);
    const expected = { req: 'req_1', digest: computeRequestDigest(digestInputFor('req_1')), sub: 'user_1' };
    for (const decision of ['approve', 'reject'] as const) {
      const jws = await signApprovalStatement({ ...expected, decision, iat: NOW }, keys.signing.privateKey, pub.signingThumbprint);
      expect(JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString())).toEqual({
        alg: 'ES256',
        kid: pub.signingThumbprint,
        typ: 'qg-approval+jwt',
      });
      expect(await verifyApprovalStatement(jws, pub.signingKey, expected, NOW + 10)).toEqual({ ...expected, decision, iat: NOW });
    }
  });
});

describe('prepareDecision', () => {
  it('2-of-3: two approvals let the gateway check commitments, combine and open the credential', async () => {
    const secret = Buffer.from('s3cr3t-db-password');
    const { sealed, custodians, commitments } = await createCredential(secret, 2, 3);
    const { request, privateJwk } = await submitRequest();

    const shares: Buffer[] = [];
    for (const c of [custodians[0], custodians[2]]) {
      const body = await prepareDecision(decisionInput(c, request));
      expect(body.decision).toBe('approve');
      expect(body.digest).toBe(request.digest);
      const pub = await exportPublicJwks(c.keys);
      const claims = await verifyApprovalStatement(body.statement, pub.signingKey, { req: request.id, digest: request.digest, sub: c.userId }, NOW);
      expect(claims.decision).toBe('approve');
      // The share carries the digest this custodian approved: the gateway uses it for that request only.
      const share = await openShareForRequest(body.share!, privateJwk, { req: request.id, idx: c.index, digest: request.digest });
      verifyShareCommitment({ cred: 'cred_1', ver: 1, idx: c.index, share }, commitments.get(c.index)!);
      shares.push(share);
    }
    const dataKey = combineShares(shares);
    expect((await openSealedSecret(sealed, dataKey, SEALED_META)).equals(secret)).toBe(true);
  });

  it('reject signs a statement and sends no share', async () => {
    const { custodians } = await createCredential(Buffer.from('x'), 1, 1);
    const { request } = await submitRequest();
    const c = custodians[0];
    const body = await prepareDecision({ ...decisionInput(c, request, 'reject'), shareEnvelope: undefined });
    expect(body).not.toHaveProperty('share');
    const pub = await exportPublicJwks(c.keys);
    const claims = await verifyApprovalStatement(body.statement, pub.signingKey, { req: request.id, digest: request.digest, sub: c.userId }, NOW);
    expect(claims.decision).toBe('reject');
  });

  it('refuses a request whose digestInput was tampered with (DIGEST_MISMATCH)', async () => {
    const { custodians } = await createCredential(Buffer.from('x'), 2, 3);
    const { request } = await submitRequest();
    const di = request.digestInput;
    const tampered: PrepareDecisionInput['request'][] = [
      { ...request, digestInput: { ...di, operation: { kind: 'http', params: { ...di.operation.params, path: '/admin/drop/db' } } } },
      { ...request, digestInput: { ...di, operation: { kind: 'sql.exec', params: di.operation.params } } },
      { ...request, digestInput: { ...di, reason: 'something harmless' } },
      { ...request, digestInput: { ...di, expiresAt: new Date((NOW + 86_400) * 1000).toISOString() } },
      { ...request, digestInput: { ...di, credential: { id: 'cred_1', version: 2 } } },
      { ...request, digest: computeRequestDigest(digestInputFor('req_2')) },
      // a consistent digest and digestInput, but for another request id
      { ...request, digestInput: digestInputFor('req_2'), digest: computeRequestDigest(digestInputFor('req_2')) },
    ];
    for (const r of tampered) {
      for (const decision of ['approve', 'reject'] as const) {
        expect(await codeOf(() => prepareDecision(decisionInput(custodians[0], r, decision)))).toBe('DIGEST_MISMATCH');
      }
    }
    const hidden = { ...request, digestInput: { ...di, hidden: 1 } };
    expect(await codeOf(() => prepareDecision(decisionInput(custodians[0], hidden)))).toBe('DIGEST_INPUT_INVALID');
  });

  it('refuses an expired request (REQUEST_EXPIRED)', async () => {
    const { custodians } = await createCredential(Buffer.from('x'), 2, 3);
    const { request } = await submitRequest();
    const input = { ...decisionInput(custodians[0], request), nowSeconds: NOW + 3600 };
    expect(await codeOf(() => prepareDecision(input))).toBe('REQUEST_EXPIRED');
  });

  it('refuses a share envelope that does not match the announced index or the credential', async () => {
    const { custodians } = await createCredential(Buffer.from('x'), 2, 3);
    const { request } = await submitRequest();
    const c = custodians[1];
    const wrongIndex = { ...decisionInput(c, request), shareEnvelope: { envelope: c.envelope, index: 1 } };
    expect(await codeOf(() => prepareDecision(wrongIndex))).toBe('SHARE_HEADER_MISMATCH');

    const otherCred = await sealShareToCustodian(
      splitDataKey(generateDataKey(), 3, 2)[1],
      (await exportPublicJwks(c.keys)).encryptionKey,
      { cred: 'cred_9', ver: 1, idx: 2 },
    );
    const otherCredInput = { ...decisionInput(c, request), shareEnvelope: { envelope: otherCred, index: 2 } };
    expect(await codeOf(() => prepareDecision(otherCredInput))).toBe('SHARE_HEADER_MISMATCH');

    const someoneElses = { ...decisionInput(c, request), shareEnvelope: { envelope: custodians[0].envelope, index: 1 } };
    expect(await codeOf(() => prepareDecision(someoneElses))).toBe('SHARE_ENVELOPE_INVALID');
  });

  it('refuses a request key with a private member (REQUEST_KEY_INVALID)', async () => {
    const { custodians } = await createCredential(Buffer.from('x'), 2, 3);
    const { request, privateJwk } = await submitRequest();
    const input = decisionInput(custodians[0], { ...request, requestKey: privateJwk });
    expect(await codeOf(() => prepareDecision(input))).toBe('REQUEST_KEY_INVALID');
  });
});

describe('browser compatibility of libs/custodian', () => {
  it('imports no node: module, no Buffer and not libs/crypto', () => {
    const dir = new URL('.', import.meta.url);
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    expect(sources.length).toBeGreaterThan(5);
    for (const file of sources) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      expect([file, /from ['"]node:|\bBuffer\b|\.\.\/crypto|require\(/.test(text)]).toEqual([file, false]);
    }
  });
});
