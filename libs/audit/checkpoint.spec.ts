import { generateKeyPairSync } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CompactSign, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from 'jose';
import { type AuditEntry, chainEntry } from './audit-entry.js';
import { AuditError } from './audit-error.js';
import { type Checkpoint, checkCheckpointsAgainstChain, signCheckpoint, verifyCheckpoint } from './checkpoint.js';
import { verifyChain } from './verify-chain.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const SIGNED_AT = '2025-01-01T01:00:00.000Z';

function buildChain(length: number, from: AuditEntry[] = [], tag = 'original'): AuditEntry[] {
  const entries = [...from];
  while (entries.length < length) {
    const i = entries.length;
    entries.push(
      chainEntry(entries[i - 1] ?? null, {
        at: new Date(T0 + i * 1_000).toISOString(),
        actor: 'user-1',
        action: 'request.create',
        subject: `request:r${i}`,
        data: { index: i, tag },
      }),
    );
  }
  return entries;
}

const b64u = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

describe('checkpoints', () => {
  let gateway: { privateKey: CryptoKey; jwks: { keys: JWK[] } };
  let other: { privateKey: CryptoKey; jwks: { keys: JWK[] } };
  const chain = buildChain(50);
  const at = (seq: number): Checkpoint => ({ seq, headHash: chain[seq - 1]?.hash ?? '', at: SIGNED_AT });

  beforeAll(async () => {
    const make = async (kid: string): Promise<{ privateKey: CryptoKey; jwks: { keys: JWK[] } }> => {
      const pair = await generateKeyPair('ES256');
      return { privateKey: pair.privateKey, jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' }] } };
    };
    gateway = await make('gw-1');
    other = await make('gw-1');
  });

  it('signs a JWS whose header and payload are as specified, and verifies it', async () => {
    const cp = at(30);
    const jws = await signCheckpoint(cp, gateway.privateKey, 'gw-1');
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'ES256', kid: 'gw-1', typ: 'qg-checkpoint+jwt' });
    expect(jws.split('.')[1]).toBe(b64u(canonicalize(cp) ?? ''));
    await expect(verifyCheckpoint(jws, gateway.jwks)).resolves.toEqual(cp);
  });

  it('signs with a node:crypto KeyObject too', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwks = { keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'gw-node' }] };
    const jws = await signCheckpoint(at(50), privateKey, 'gw-node');
    await expect(verifyCheckpoint(jws, jwks)).resolves.toEqual(at(50));
  });

  const forge = async (payload: unknown, header: Record<string, unknown>, key: CryptoKey): Promise<string> =>
    new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', ...header }).sign(key);

  it.each<[string, () => Promise<string>, () => { keys: JWK[] }]>([
    [
      'a tampered payload',
      async () => {
        const [header, , signature] = (await signCheckpoint(at(30), gateway.privateKey, 'gw-1')).split('.');
        return [header, b64u(JSON.stringify({ ...at(30), headHash: chain[30]?.hash })), signature].join('.');
      },
      () => gateway.jwks,
    ],
    [
      'a tampered signature',
      async () => {
        const jws = await signCheckpoint(at(30), gateway.privateKey, 'gw-1');
        return jws.slice(0, -4) + (jws.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      },
      () => gateway.jwks,
    ],
    ['an unknown kid', () => signCheckpoint(at(30), gateway.privateKey, 'gw-2'), () => gateway.jwks],
    ['another key under the same kid', () => signCheckpoint(at(30), other.privateKey, 'gw-1'), () => gateway.jwks],
    ['no kid', () => forge(at(30), { typ: 'qg-checkpoint+jwt' }, gateway.privateKey), () => gateway.jwks],
    ['typ JWT (a session token is no checkpoint)', () => forge(at(30), { kid: 'gw-1', typ: 'JWT' }, gateway.privateKey), () => gateway.jwks],
    ['no typ', () => forge(at(30), { kid: 'gw-1' }, gateway.privateKey), () => gateway.jwks],
    ['a payload with seq as a string', () => forge({ ...at(30), seq: '30' }, { kid: 'gw-1', typ: 'qg-checkpoint+jwt' }, gateway.privateKey), () => gateway.jwks],
    ['a payload without headHash', () => forge({ seq: 30, at: SIGNED_AT }, { kid: 'gw-1', typ: 'qg-checkpoint+jwt' }, gateway.privateKey), () => gateway.jwks],
    [
      'alg none',
      async () => `${b64u(JSON.stringify({ alg: 'none', kid: 'gw-1', typ: 'qg-checkpoint+jwt' }))}.${b64u(JSON.stringify(at(30)))}.`,
      () => gateway.jwks,
    ],
    ['garbage', async () => 'not.a.jws', () => gateway.jwks],
    ['an empty key set', () => signCheckpoint(at(30), gateway.privateKey, 'gw-1'), () => ({ keys: [] })],
  ])('rejects %s with CHECKPOINT_INVALID', async (_name, makeJws, jwks) => {
    const failure = verifyCheckpoint(await makeJws(), jwks());
    await expect(failure).rejects.toBeInstanceOf(AuditError);
    await expect(failure).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
  });

  it.each<[string, Checkpoint, string]>([
    ['seq 0', { ...at(1), seq: 0 }, 'gw-1'],
    ['an upper-case headHash', { ...at(1), headHash: at(1).headHash.toUpperCase() }, 'gw-1'],
    ['at without milliseconds', { ...at(1), at: '2025-01-01T01:00:00Z' }, 'gw-1'],
    ['an empty kid', at(1), ''],
  ])('refuses to sign %s', async (_name, cp, kid) => {
    await expect(signCheckpoint(cp, gateway.privateKey, kid)).rejects.toBeInstanceOf(TypeError);
  });

  describe('against the chain', () => {
    it('accepts checkpoints that match', () => {
      expect(checkCheckpointsAgainstChain([at(50), at(10), at(30)], chain)).toEqual({ ok: true });
      expect(checkCheckpointsAgainstChain([], chain)).toEqual({ ok: true });
    });

    it('catches a forged tail that verifyChain alone accepts', async () => {
      const jws = await Promise.all([10, 30].map((seq) => signCheckpoint(at(seq), gateway.privateKey, 'gw-1')));
      const checkpoints = await Promise.all(jws.map((j) => verifyCheckpoint(j, gateway.jwks)));

      // The attacker edits entry 20 and re-hashes everything after it.
      const forged = buildChain(50, chain.slice(0, 19), 'forged');
      expect(forged[19]?.data).toEqual({ index: 19, tag: 'forged' });
      expect(verifyChain(forged)).toMatchObject({ ok: true, entries: 50 });

      expect(checkCheckpointsAgainstChain(checkpoints, chain)).toEqual({ ok: true });
      expect(checkCheckpointsAgainstChain(checkpoints, forged)).toMatchObject({ ok: false, firstBadSeq: 30 });
    });

    it('catches a removed tail', () => {
      const cut = chain.slice(0, 45);
      expect(verifyChain(cut).ok).toBe(true);
      expect(checkCheckpointsAgainstChain([at(50)], cut)).toMatchObject({ ok: false, firstBadSeq: 50, reason: expect.stringMatching(/cut/) });
    });

    it('names the lowest bad checkpoint', () => {
      const wrong = (seq: number): Checkpoint => ({ ...at(seq), headHash: chain[0]?.hash ?? '' });
      expect(checkCheckpointsAgainstChain([wrong(40), at(10), wrong(20)], chain)).toMatchObject({ ok: false, firstBadSeq: 20 });
    });

    it('refuses a seq that appears twice', () => {
      expect(checkCheckpointsAgainstChain([at(5)], [...chain.slice(0, 5), chain[4] as AuditEntry])).toMatchObject({ ok: false, firstBadSeq: 5 });
    });
  });
});
