import { CompactEncrypt, compactDecrypt, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import {
  checkShareForRequestHeader,
  CryptoError,
  generateDataKey,
  generateRequestKeyPair,
  openIntakeEnvelope,
  openShareForRequest,
  requestPublicJwk,
  parsePublicJwk,
  sealShareToCustodian,
  sealToPublicKey,
  openWithMasterKey,
  sealWithMasterKey,
  splitDataKey,
} from './index.js';
import { tamperedSegments } from './hostile-jwe.testing.js';

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

function headerOf(jwe: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwe.split('.')[0], 'base64url').toString('utf8')) as Record<string, unknown>;
}

function hostileVariants(jwe: string): [string, string][] {
  const parts = jwe.split('.');
  return [
    ['empty', ''],
    ['four segments', parts.slice(0, 4).join('.')],
    ['truncated tag', jwe.slice(0, -2)],
    ['truncated encrypted key', [parts[0], parts[1].slice(0, -3), ...parts.slice(2)].join('.')],
    ['swapped iv and tag', [parts[0], parts[1], parts[4], parts[3], parts[2]].join('.')],
    ['swapped encrypted key and ciphertext', [parts[0], parts[3], parts[2], parts[1], parts[4]].join('.')],
    ['no encrypted key', [parts[0], '', ...parts.slice(2)].join('.')],
    ...tamperedSegments(jwe),
  ];
}

function withHeader(jwe: string, patch: Record<string, unknown>): string {
  const [, ...rest] = jwe.split('.');
  const header = { ...headerOf(jwe), ...patch };
  return [Buffer.from(JSON.stringify(header)).toString('base64url'), ...rest].join('.');
}

async function custodianKeyPair(): Promise<{ publicJwk: JWK; privateKey: CryptoKey }> {
  const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256' });
  return { publicJwk: await exportJWK(publicKey), privateKey };
}

describe('sealShareToCustodian', () => {
  it('seals the raw share with kid, cred, ver, idx in the protected header', async () => {
    const custodian = await custodianKeyPair();
    const share = splitDataKey(generateDataKey(), 3, 2)[1];
    const envelope = await sealShareToCustodian(share, custodian.publicJwk, { cred: 'cred_1', ver: 1, idx: 2 });
    const { thumbprint } = await parsePublicJwk(custodian.publicJwk, 'encryption');
    expect(headerOf(envelope)).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: thumbprint, cred: 'cred_1', ver: 1, idx: 2 });
    const { plaintext } = await compactDecrypt(envelope, custodian.privateKey);
    expect(Buffer.from(plaintext).equals(share)).toBe(true);
  });

  it('refuses a share whose own index differs from idx, and private or non-P-256 keys', async () => {
    const custodian = await custodianKeyPair();
    const shares = splitDataKey(generateDataKey(), 3, 2);
    await expect(sealShareToCustodian(shares[0], custodian.publicJwk, { cred: 'c', ver: 1, idx: 2 })).rejects.toThrow(TypeError);
    const p384 = await exportJWK((await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-384' })).publicKey);
    const priv = await exportJWK((await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true })).privateKey);
    const h = { cred: 'c', ver: 1, idx: 1 };
    expect(await codeOf(() => sealShareToCustodian(shares[0], p384, h))).toBe('JWK_INVALID');
    expect(await codeOf(() => sealShareToCustodian(shares[0], priv, h))).toBe('JWK_PRIVATE_MEMBER');
  });
});

describe('sealToPublicKey', () => {
  it('refuses JOSE-reserved header names and non-scalar values', async () => {
    const { publicJwk } = await generateRequestKeyPair();
    for (const name of ['alg', 'enc', 'zip', 'crit', 'kid', 'epk', 'apu', 'jwk', 'typ']) {
      await expect(sealToPublicKey(new Uint8Array([1]), publicJwk, { [name]: 'x' })).rejects.toThrow(TypeError);
    }
    await expect(
      sealToPublicKey(new Uint8Array([1]), publicJwk, { req: { a: 1 } } as unknown as Record<string, string>),
    ).rejects.toThrow(TypeError);
  });
});

describe('generateRequestKeyPair / openShareForRequest', () => {
  const share = splitDataKey(generateDataKey(), 5, 3)[3]; // index 4

  it('makes a P-256 pair with kid = thumbprint; a share sealed to it opens', async () => {
    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    const { thumbprint } = await parsePublicJwk(publicJwk, 'encryption');
    expect(publicJwk).toEqual({ kty: 'EC', crv: 'P-256', x: publicJwk.x, y: publicJwk.y, kid: thumbprint, alg: 'ECDH-ES+A256KW', use: 'enc' });
    expect(privateJwk.d).toEqual(expect.any(String));
    expect(privateJwk.kid).toBe(thumbprint);

    const envelope = await sealToPublicKey(share, publicJwk, { req: 'req_1', idx: 4, digest: 'd1' });
    expect(headerOf(envelope)).toMatchObject({ kid: thumbprint, req: 'req_1', idx: 4 });
    const opened = await openShareForRequest(envelope, privateJwk, { req: 'req_1', idx: 4, digest: 'd1' });
    expect(Buffer.isBuffer(opened)).toBe(true);
    expect(opened.equals(share)).toBe(true);
  });

  it('keeps working after the private JWK went through the master-key store as JSON', async () => {
    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    const masterKey = generateDataKey();
    const stored = await sealWithMasterKey(Buffer.from(JSON.stringify(privateJwk)), masterKey, 'request-key');
    expect(stored).not.toContain(privateJwk.d);
    const envelope = await sealToPublicKey(share, publicJwk, { req: 'req_1', idx: 4, digest: 'd1' });
    const restored = JSON.parse((await openWithMasterKey(stored, masterKey, 'request-key')).toString('utf8')) as JWK;
    expect((await openShareForRequest(envelope, restored, { req: 'req_1', idx: 4, digest: 'd1' })).equals(share)).toBe(true);
  });

  it('derives the public request key from d alone, whatever x and y the private JWK carries', async () => {
    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    expect(await requestPublicJwk(privateJwk)).toEqual(publicJwk);
    const other = await generateRequestKeyPair();
    // A private JWK whose public members were swapped for another key's still yields its own public key.
    expect(await requestPublicJwk({ ...privateJwk, x: other.publicJwk.x, y: other.publicJwk.y })).toEqual(publicJwk);
    for (const bad of [{ ...privateJwk, d: undefined }, { ...privateJwk, crv: 'P-384' }, { ...privateJwk, d: 'AA' }]) {
      expect(await codeOf(() => requestPublicJwk(bad as JWK))).toBe('JWK_INVALID');
    }
  });

  it('fails ENVELOPE_INVALID with the wrong request key and on hostile envelopes', async () => {
    const right = await generateRequestKeyPair();
    const other = await generateRequestKeyPair();
    const envelope = await sealToPublicKey(share, right.publicJwk, { req: 'req_1', idx: 4, digest: 'd1' });
    const expected = { req: 'req_1', idx: 4, digest: 'd1' };

    expect(await codeOf(() => openShareForRequest(envelope, other.privateJwk, expected))).toBe('ENVELOPE_INVALID');
    const publicKey = await importJWK(right.publicJwk, 'ECDH-ES+A256KW');
    const otherAlgs: [string, string][] = [
      ['ECDH-ES direct', await new CompactEncrypt(share).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', req: 'req_1', idx: 4 }).encrypt(publicKey)],
      ['A128GCM', await new CompactEncrypt(share).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A128GCM', req: 'req_1', idx: 4 }).encrypt(publicKey)],
      ['ECDH-ES+A128KW', await new CompactEncrypt(share).setProtectedHeader({ alg: 'ECDH-ES+A128KW', enc: 'A256GCM', req: 'req_1', idx: 4 }).encrypt(publicKey)],
      ['dir', await new CompactEncrypt(share).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', req: 'req_1', idx: 4 }).encrypt(generateDataKey())],
    ];
    const variants = [
      ...hostileVariants(envelope),
      ...otherAlgs,
      ['header req edited', withHeader(envelope, { req: 'req_2' })],
      ['header idx edited', withHeader(envelope, { idx: 1 })],
      ['header epk removed', withHeader(envelope, { epk: undefined })],
      ['header epk with d', withHeader(envelope, { epk: { ...(headerOf(envelope).epk as object), d: right.privateJwk.d } })],
      ['header epk from another key', withHeader(envelope, { epk: { kty: 'EC', crv: 'P-256', x: other.publicJwk.x, y: other.publicJwk.y } })],
    ] as [string, string][];
    for (const [label, variant] of variants) {
      expect([label, await codeOf(() => openShareForRequest(variant, right.privateJwk, expected))]).toEqual([
        label,
        'ENVELOPE_INVALID',
      ]);
    }
  });

  it('fails ENVELOPE_HEADER_MISMATCH for an authentic envelope of another request, index or digest', async () => {
    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    const cases: [Record<string, string | number>, { req: string; idx: number; digest: string }][] = [
      [{ req: 'req_2', idx: 4, digest: 'd1' }, { req: 'req_1', idx: 4, digest: 'd1' }],
      [{ req: 'req_1', idx: 3, digest: 'd1' }, { req: 'req_1', idx: 4, digest: 'd1' }],
      [{ req: 'req_1', idx: '4', digest: 'd1' }, { req: 'req_1', idx: 4, digest: 'd1' }],
      [{ idx: 4, digest: 'd1' }, { req: 'req_1', idx: 4, digest: 'd1' }],
      [{ req: 'req_1', digest: 'd1' }, { req: 'req_1', idx: 4, digest: 'd1' }],
      // The custodian approved another digest: the request was edited after they looked (spec §2 item 10).
      [{ req: 'req_1', idx: 4, digest: 'd2' }, { req: 'req_1', idx: 4, digest: 'd1' }],
      [{ req: 'req_1', idx: 4 }, { req: 'req_1', idx: 4, digest: 'd1' }],
    ];
    for (const [header, expected] of cases) {
      const envelope = await sealToPublicKey(share, publicJwk, header);
      expect(await codeOf(() => openShareForRequest(envelope, privateJwk, expected))).toBe('ENVELOPE_HEADER_MISMATCH');
    }
  });

  it('fails SHARE_INVALID when the payload is not a share of the announced index', async () => {
    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    const otherIndex = splitDataKey(generateDataKey(), 5, 3)[0];
    for (const payload of [otherIndex, Buffer.from('not a share'), new Uint8Array(0)]) {
      const envelope = await sealToPublicKey(payload, publicJwk, { req: 'req_1', idx: 4, digest: 'd1' });
      expect(await codeOf(() => openShareForRequest(envelope, privateJwk, { req: 'req_1', idx: 4, digest: 'd1' }))).toBe('SHARE_INVALID');
    }
  });

  it('refuses a request private key that is not a P-256 private JWK with JWK_INVALID', async () => {
    const { publicJwk } = await generateRequestKeyPair();
    const envelope = await sealToPublicKey(share, publicJwk, { req: 'req_1', idx: 4, digest: 'd1' });
    const p384 = await exportJWK((await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-384', extractable: true })).privateKey);
    for (const bad of [publicJwk, p384, { ...publicJwk, d: 'AAAA' }]) {
      expect(await codeOf(() => openShareForRequest(envelope, bad, { req: 'req_1', idx: 4, digest: 'd1' }))).toBe('JWK_INVALID');
    }
  });
});

describe('checkShareForRequestHeader: the check at approval, without opening (ADR 0018)', () => {
  const share = splitDataKey(generateDataKey(), 5, 3)[3]; // index 4
  const expected = { req: 'req_1', idx: 4, digest: 'd1' };

  function checkCode(envelope: string, want: { req: string; idx: number; digest: string; grp?: number } = expected): string {
    try {
      checkShareForRequestHeader(envelope, want);
    } catch (e) {
      if (e instanceof CryptoError) return e.code;
      throw e;
    }
    return 'NO_ERROR';
  }

  it('passes a share sealed for this request, index, digest and group, and refuses other headers with ENVELOPE_HEADER_MISMATCH', async () => {
    const { publicJwk } = await generateRequestKeyPair();
    expect(checkCode(await sealToPublicKey(share, publicJwk, expected))).toBe('NO_ERROR');
    expect(checkCode(await sealToPublicKey(share, publicJwk, { ...expected, grp: 1 }), { ...expected, grp: 1 })).toBe('NO_ERROR');
    const cases: Record<string, string | number>[] = [
      { req: 'req_2', idx: 4, digest: 'd1' },
      { req: 'req_1', idx: 3, digest: 'd1' },
      { req: 'req_1', idx: '4', digest: 'd1' },
      { idx: 4, digest: 'd1' },
      { req: 'req_1', idx: 4, digest: 'd2' },
      { req: 'req_1', idx: 4 },
      { req: 'req_1', idx: 4, digest: 'd1', grp: 0 },
    ];
    for (const header of cases) expect([header, checkCode(await sealToPublicKey(share, publicJwk, header))]).toEqual([header, 'ENVELOPE_HEADER_MISMATCH']);
    expect(checkCode(await sealToPublicKey(share, publicJwk, expected), { ...expected, grp: 1 })).toBe('ENVELOPE_HEADER_MISMATCH');
  });

  it('refuses what is not an ECDH-ES+A256KW / A256GCM compact JWE with a P-256 epk as ENVELOPE_INVALID', async () => {
    const right = await generateRequestKeyPair();
    const envelope = await sealToPublicKey(share, right.publicJwk, expected);
    const publicKey = await importJWK(right.publicJwk, 'ECDH-ES+A256KW');
    const variants: [string, string][] = [
      ['empty', ''],
      ['not a jwe', 'not.a.jwe.at.all'],
      ['four segments', envelope.split('.').slice(0, 4).join('.')],
      ['no encrypted key', [envelope.split('.')[0], '', ...envelope.split('.').slice(2)].join('.')],
      ['padding', `${envelope}=`],
      ['header not JSON', ['bm90IGpzb24', ...envelope.split('.').slice(1)].join('.')],
      ['ECDH-ES direct', await new CompactEncrypt(share).setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', ...expected }).encrypt(publicKey)],
      ['A128GCM', await new CompactEncrypt(share).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A128GCM', ...expected }).encrypt(publicKey)],
      ['dir', await new CompactEncrypt(share).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', ...expected }).encrypt(generateDataKey())],
      ['zip', withHeader(envelope, { zip: 'DEF' })],
      ['header epk removed', withHeader(envelope, { epk: undefined })],
      ['header epk with d', withHeader(envelope, { epk: { ...(headerOf(envelope).epk as object), d: right.privateJwk.d } })],
      ['header epk P-384', withHeader(envelope, { epk: { ...(headerOf(envelope).epk as object), crv: 'P-384' } })],
    ];
    for (const [label, variant] of variants) expect([label, checkCode(variant)]).toEqual([label, 'ENVELOPE_INVALID']);
    expect(checkCode(42 as unknown as string)).toBe('ENVELOPE_INVALID');
  });

  it('leaves to the opening at execution what a header cannot show: a share sealed to another key', async () => {
    const right = await generateRequestKeyPair();
    const other = await generateRequestKeyPair();
    const misdirected = await sealToPublicKey(share, other.publicJwk, expected);
    expect(checkCode(misdirected)).toBe('NO_ERROR');
    expect(await codeOf(() => openShareForRequest(misdirected, right.privateJwk, expected))).toBe('ENVELOPE_INVALID');
  });
});

describe('grouped shares (spec §3a): grp in the envelope headers', () => {
  const share = splitDataKey(generateDataKey(), 3, 2)[1]; // index 2

  it('seals grp to the custodian and refuses a grp outside 0..15', async () => {
    const custodian = await generateRequestKeyPair();
    const envelope = await sealShareToCustodian(share, custodian.publicJwk, { cred: 'cred_1', ver: 1, idx: 2, grp: 1 });
    expect(headerOf(envelope)).toMatchObject({ cred: 'cred_1', ver: 1, idx: 2, grp: 1 });
    for (const grp of [-1, 16, 1.5]) await expect(sealShareToCustodian(share, custodian.publicJwk, { cred: 'c', ver: 1, idx: 2, grp })).rejects.toThrow(TypeError);
  });

  it('opens a share for a request only when its grp is the expected one (absent for one group)', async () => {
    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    const grouped = await sealToPublicKey(share, publicJwk, { req: 'req_1', grp: 1, idx: 2, digest: 'd1' });
    const flat = await sealToPublicKey(share, publicJwk, { req: 'req_1', idx: 2, digest: 'd1' });
    expect((await openShareForRequest(grouped, privateJwk, { req: 'req_1', idx: 2, digest: 'd1', grp: 1 })).equals(share)).toBe(true);
    expect((await openShareForRequest(flat, privateJwk, { req: 'req_1', idx: 2, digest: 'd1' })).equals(share)).toBe(true);
    const mismatches: [string, number | undefined][] = [
      [grouped, 0],
      [grouped, undefined],
      [flat, 0],
    ];
    for (const [envelope, grp] of mismatches) {
      await expect(openShareForRequest(envelope, privateJwk, { req: 'req_1', idx: 2, digest: 'd1', grp })).rejects.toMatchObject({ code: 'ENVELOPE_HEADER_MISMATCH' });
    }
  });
});

describe('openIntakeEnvelope', () => {
  const seal = async (publicJwk: JWK, header: Record<string, unknown>, plaintext = 'the new secret') =>
    new CompactEncrypt(Buffer.from(plaintext)).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', ...header }).encrypt(await importJWK(publicJwk, 'ECDH-ES+A256KW'));

  it('opens a secret sealed to the intake key for this credential, version and purpose', async () => {
    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    const kid = String(publicJwk.kid);
    const jwe = await seal(publicJwk, { kid, cred: 'c1', ver: 3, purpose: 'rotate' });
    expect((await openIntakeEnvelope(jwe, privateJwk, { kid, cred: 'c1', ver: 3 })).toString('utf8')).toBe('the new secret');
  });

  it.each([
    ['another key id', { kid: 'other', cred: 'c1', ver: 3, purpose: 'rotate' }],
    ['another credential', { cred: 'c2', ver: 3, purpose: 'rotate' }],
    ['another version', { cred: 'c1', ver: 2, purpose: 'rotate' }],
    ['another purpose', { cred: 'c1', ver: 3, purpose: 'check-in' }],
    ['no purpose', { cred: 'c1', ver: 3 }],
  ])('refuses %s: ENVELOPE_HEADER_MISMATCH', async (_, header) => {
    const { publicJwk, privateJwk } = await generateRequestKeyPair();
    const kid = String(publicJwk.kid);
    const jwe = await seal(publicJwk, { kid, ...header });
    expect(await codeOf(() => openIntakeEnvelope(jwe, privateJwk, { kid, cred: 'c1', ver: 3 }))).toBe('ENVELOPE_HEADER_MISMATCH');
  });

  it('refuses a JWE to another key, a tampered one and an empty secret: ENVELOPE_INVALID', async () => {
    const mine = await generateRequestKeyPair();
    const theirs = await generateRequestKeyPair();
    const kid = String(mine.publicJwk.kid);
    const header = { kid, cred: 'c1', ver: 3, purpose: 'rotate' };
    expect(await codeOf(async () => openIntakeEnvelope(await seal(theirs.publicJwk, header), mine.privateJwk, { kid, cred: 'c1', ver: 3 }))).toBe('ENVELOPE_INVALID');
    const jwe = await seal(mine.publicJwk, header);
    for (const [, tampered] of tamperedSegments(jwe)) expect(await codeOf(() => openIntakeEnvelope(tampered, mine.privateJwk, { kid, cred: 'c1', ver: 3 }))).not.toBe('NO_ERROR');
    expect(await codeOf(async () => openIntakeEnvelope(await seal(mine.publicJwk, header, ''), mine.privateJwk, { kid, cred: 'c1', ver: 3 }))).toBe('ENVELOPE_INVALID');
  });
});
