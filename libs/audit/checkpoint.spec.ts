import { createHash, generateKeyPairSync } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CompactSign, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from 'jose';
import { AuditError } from './audit-error.js';
import { type Checkpoint, checkpointLink, signCheckpoint, verifyCheckpoint } from './checkpoint.js';

const SIGNED_AT = '2025-01-01T01:00:00.000Z';
const HASH = 'ab'.repeat(32);
const LINK = 'x'.repeat(43);

const b64u = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
const at = (seq: number, prev: string | null = LINK): Checkpoint => ({ seq, hash: HASH, prev, at: SIGNED_AT });

describe('checkpoints', () => {
  let gateway: { privateKey: CryptoKey; jwks: { keys: JWK[] } };
  let other: { privateKey: CryptoKey; jwks: { keys: JWK[] } };

  beforeAll(async () => {
    const make = async (kid: string): Promise<{ privateKey: CryptoKey; jwks: { keys: JWK[] } }> => {
      const pair = await generateKeyPair('ES256');
      return { privateKey: pair.privateKey, jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' }] } };
    };
    gateway = await make('gw-1');
    other = await make('gw-1');
  });

  it('signs a JWS whose header and payload are as specified, and verifies it', async () => {
    for (const cp of [at(30), at(1, null)]) {
      const jws = await signCheckpoint(cp, gateway.privateKey, 'gw-1');
      expect(decodeProtectedHeader(jws)).toEqual({ alg: 'ES256', kid: 'gw-1', typ: 'qg-checkpoint+jwt' });
      expect(jws.split('.')[1]).toBe(b64u(canonicalize(cp) ?? ''));
      await expect(verifyCheckpoint(jws, gateway.jwks)).resolves.toEqual(cp);
    }
  });

  it('signs with a node:crypto KeyObject too', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwks = { keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'gw-node' }] };
    const jws = await signCheckpoint(at(50), privateKey, 'gw-node');
    await expect(verifyCheckpoint(jws, jwks)).resolves.toEqual(at(50));
  });

  it('links a checkpoint as b64u(SHA-256(ASCII of the compact JWS)), signature included', async () => {
    const jws = await signCheckpoint(at(30), gateway.privateKey, 'gw-1');
    expect(checkpointLink(jws)).toBe(createHash('sha256').update(Buffer.from(jws, 'ascii')).digest('base64url'));
    expect(checkpointLink(jws)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // ECDSA signatures are randomised: the same payload signed again links elsewhere.
    const again = await signCheckpoint(at(30), gateway.privateKey, 'gw-1');
    expect(checkpointLink(again)).not.toBe(checkpointLink(jws));
    expect(() => checkpointLink('not a jws')).toThrow(TypeError);
    expect(() => checkpointLink(`${jws}é`)).toThrow(TypeError);
  });

  const forge = async (payload: unknown, header: Record<string, unknown>, key: CryptoKey): Promise<string> =>
    new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', ...header }).sign(key);
  const typed = { kid: 'gw-1', typ: 'qg-checkpoint+jwt' };

  it.each<[string, () => Promise<string>, () => { keys: JWK[] }]>([
    [
      'a tampered payload',
      async () => {
        const [header, , signature] = (await signCheckpoint(at(30), gateway.privateKey, 'gw-1')).split('.');
        return [header, b64u(JSON.stringify({ ...at(30), hash: 'cd'.repeat(32) })), signature].join('.');
      },
      () => gateway.jwks,
    ],
    [
      'a payload spliced onto another checkpoint signature',
      async () => {
        const [header, payload] = (await signCheckpoint(at(30), gateway.privateKey, 'gw-1')).split('.');
        const signature = (await signCheckpoint(at(20), gateway.privateKey, 'gw-1')).split('.')[2];
        return [header, payload, signature].join('.');
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
    ['the payload before prev ({seq, headHash, at})', () => forge({ seq: 30, headHash: HASH, at: SIGNED_AT }, typed, gateway.privateKey), () => gateway.jwks],
    ['a payload without prev', () => forge({ seq: 30, hash: HASH, at: SIGNED_AT }, typed, gateway.privateKey), () => gateway.jwks],
    ['a payload with one more member', () => forge({ ...at(30), headHash: HASH }, typed, gateway.privateKey), () => gateway.jwks],
    ['a payload with seq as a string', () => forge({ ...at(30), seq: '30' }, typed, gateway.privateKey), () => gateway.jwks],
    ['a payload with prev as hex', () => forge({ ...at(30), prev: HASH }, typed, gateway.privateKey), () => gateway.jwks],
    ['a payload with prev padded base64', () => forge({ ...at(30), prev: `${'x'.repeat(43)}=` }, typed, gateway.privateKey), () => gateway.jwks],
    ['a payload with an upper-case hash', () => forge({ ...at(30), hash: HASH.toUpperCase() }, typed, gateway.privateKey), () => gateway.jwks],
    ['a payload that is an array', () => forge([at(30)], typed, gateway.privateKey), () => gateway.jwks],
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
    ['an upper-case hash', { ...at(1), hash: HASH.toUpperCase() }, 'gw-1'],
    ['a prev that is no SHA-256 in b64u', { ...at(1), prev: 'abc' }, 'gw-1'],
    ['a prev left undefined', { ...at(1), prev: undefined as unknown as null }, 'gw-1'],
    ['at without milliseconds', { ...at(1), at: '2025-01-01T01:00:00Z' }, 'gw-1'],
    ['an empty kid', at(1), ''],
  ])('refuses to sign %s', async (_name, cp, kid) => {
    await expect(signCheckpoint(cp, gateway.privateKey, kid)).rejects.toBeInstanceOf(TypeError);
  });
});
