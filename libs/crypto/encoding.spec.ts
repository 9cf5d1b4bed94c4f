import { createHash } from 'node:crypto';
import {
  CryptoError,
  canonicalJson,
  computeRequestDigest,
  fromB64u,
  hmacSha256Hex,
  randomToken,
  sha256Hex,
  toB64u,
  zeroize,
  type RequestDigestInput,
} from './index.js';

describe('canonicalJson', () => {
  it('serialises with RFC 8785 rules', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1e21, y: 0.1, x: -0 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"x":0,"y":0.1,"z":1e+21}}',
    );
    expect(canonicalJson({ '\u20ac': 1, '\r': 2, '1': 3 })).toBe('{"\\r":2,"1":3,"€":1}');
  });

  it('throws TypeError for values JSON cannot represent', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const bad of [undefined, NaN, Infinity, circular, '\ud800']) {
      expect(() => canonicalJson(bad)).toThrow(TypeError);
    }
  });
});

describe('computeRequestDigest', () => {
  const input: RequestDigestInput = {
    id: 'req_1',
    credential: { id: 'cred_1', version: 2 },
    policy: { id: 'pol_1', sha256: 'ab'.repeat(32) },
    operation: { kind: 'http', params: { method: 'POST', path: '/admin/rotate/x' } },
    requester: 'user_9',
    reason: 'rotate — urgent',
    expiresAt: '2030-01-01T00:00:00Z',
  };

  it('is b64u(SHA-256(JCS(digestInput)))', () => {
    const jcs =
      '{"credential":{"id":"cred_1","version":2},"expiresAt":"2030-01-01T00:00:00Z","id":"req_1",' +
      '"operation":{"kind":"http","params":{"method":"POST","path":"/admin/rotate/x"}},' +
      `"policy":{"id":"pol_1","sha256":"${'ab'.repeat(32)}"},` +
      '"reason":"rotate — urgent","requester":"user_9"}';
    expect(computeRequestDigest(input)).toBe(createHash('sha256').update(jcs, 'utf8').digest('base64url'));
  });

  it('ignores extra properties of the caller object and key order', () => {
    const entity = { status: 'pending', ...input, policyId: 'p_1' } as RequestDigestInput;
    expect(computeRequestDigest(entity)).toBe(computeRequestDigest(input));
  });

  it('changes with every field', () => {
    const base = computeRequestDigest(input);
    const edits: RequestDigestInput[] = [
      { ...input, id: 'req_2' },
      { ...input, credential: { id: 'cred_2', version: 2 } },
      { ...input, credential: { id: 'cred_1', version: 3 } },
      { ...input, policy: { id: 'pol_2', sha256: input.policy.sha256 } },
      { ...input, policy: { id: 'pol_1', sha256: 'cd'.repeat(32) } },
      { ...input, operation: { kind: 'sign', params: input.operation.params } },
      { ...input, operation: { kind: 'http', params: { method: 'POST', path: '/admin/rotate/y' } } },
      { ...input, operation: { kind: 'http', params: { ...input.operation.params, extra: 1 } } },
      { ...input, requester: 'user_8' },
      { ...input, reason: 'rotate' },
      { ...input, expiresAt: '2030-01-01T00:00:01Z' },
    ];
    for (const edited of edits) expect(computeRequestDigest(edited)).not.toBe(base);
  });

  it('throws TypeError on a malformed input', () => {
    const bad = [
      { ...input, id: '' },
      { ...input, credential: { id: 'c', version: '1' } },
      { ...input, operation: { kind: 'http', params: null } },
      { ...input, policy: undefined },
      { ...input, policy: { id: 'pol_1', sha256: 'not hex' } },
      { ...input, operation: { kind: 'http', params: [] } },
      { ...input, expiresAt: 0 },
    ] as unknown as RequestDigestInput[];
    for (const b of bad) expect(() => computeRequestDigest(b)).toThrow(TypeError);
  });
});

describe('b64u, hashes, tokens, zeroize', () => {
  it('round-trips base64url without padding', () => {
    const bytes = new Uint8Array([0, 255, 254, 62, 63]);
    expect(toB64u(bytes)).toBe('AP_-Pj8');
    expect(fromB64u('AP_-Pj8').equals(Buffer.from(bytes))).toBe(true);
    expect(toB64u(new Uint8Array(0))).toBe('');
    expect(toB64u(Buffer.from([1, 2, 3, 4]).subarray(1, 3))).toBe('AgM');
  });

  it('rejects non-base64url input with ENCODING_INVALID', () => {
    for (const bad of ['AP/+Pj8', 'AP_-Pj8=', 'A', 'AB', 'AP_-Pj8 ', 'é', 'AP_-Pj9']) {
      let code = 'NO_ERROR';
      try {
        fromB64u(bad);
      } catch (e) {
        code = (e as CryptoError).code;
      }
      expect([bad, code]).toEqual([bad, 'ENCODING_INVALID']);
    }
  });

  it('hashes with the published vectors', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // RFC 4231 test case 1
    expect(hmacSha256Hex(Buffer.alloc(20, 0x0b), 'Hi There')).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(() => hmacSha256Hex(Buffer.alloc(8), 'x')).toThrow(TypeError);
  });

  it('makes random base64url tokens', () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(a);
    expect(randomToken(48)).toHaveLength(64);
    expect(() => randomToken(8)).toThrow(TypeError);
  });

  it('zeroes buffers and skips missing ones', () => {
    const a = Buffer.from('secret');
    const b = new Uint8Array([1, 2, 3]);
    zeroize(a, undefined, b, null);
    expect([...a, ...b].every((x) => x === 0)).toBe(true);
  });
});
