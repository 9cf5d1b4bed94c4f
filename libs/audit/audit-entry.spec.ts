import { createHash } from 'node:crypto';
import { type AuditEntryInput, chainEntry, computeEntryHash, entryHashTemplate, GENESIS_HASH } from './audit-entry.js';

const AT = '2025-01-01T00:00:00.000Z';
const input = (data: Record<string, unknown> = {}): AuditEntryInput => ({ at: AT, actor: 'u1', action: 'request.create', subject: 'request:r1', data });

describe('computeEntryHash', () => {
  it('hashes prevHash then the JCS of the other fields (known answer)', () => {
    const canonical =
      `{"action":"request.create","actor":"u1","at":"${AT}","data":{"a":2,"b":[1,"x"]},` +
      `"prevHash":"${GENESIS_HASH}","seq":1,"subject":"request:r1"}`;
    const expected = createHash('sha256').update(GENESIS_HASH + canonical, 'utf8').digest('hex');
    const entry = { seq: 1, at: AT, actor: 'u1', action: 'request.create', subject: 'request:r1', data: { b: [1, 'x'], a: 2 }, prevHash: GENESIS_HASH };
    expect(computeEntryHash(entry)).toBe(expected);
  });

  it('hashes only the seven fields, not hash or a row id', () => {
    const entry = chainEntry(null, input());
    expect(computeEntryHash({ ...entry, hash: 'f'.repeat(64), id: 7 } as typeof entry)).toBe(entry.hash);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['top-level keys', { a: 1, b: 2 }, { b: 2, a: 1 }],
    ['nested keys', { outer: { x: 1, y: { p: true, q: null } } }, { outer: { y: { q: null, p: true }, x: 1 } }],
    ['number spellings', { n: 1.0, m: 1e3 }, { m: 1000, n: 1 }],
  ])('data with %s in another order hashes the same', (_name, a, b) => {
    expect(chainEntry(null, input(a)).hash).toBe(chainEntry(null, input(b)).hash);
  });

  it('data that differs hashes differently', () => {
    expect(chainEntry(null, input({ a: 1 })).hash).not.toBe(chainEntry(null, input({ a: '1' })).hash);
  });
});

describe('chainEntry', () => {
  it('starts at seq 1 on the genesis hash and links the next entry', () => {
    const first = chainEntry(null, input());
    const second = chainEntry(first, { ...input(), at: '2025-01-01T00:00:01.000Z' });
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
  });

  it('stores the canonical JSON copy of data, as a JSON column gives it back', () => {
    const entry = chainEntry(null, input({ drop: undefined, when: new Date(0), list: [undefined] }));
    expect(entry.data).toEqual({ when: '1970-01-01T00:00:00.000Z', list: [null] });
    expect(computeEntryHash(JSON.parse(JSON.stringify(entry)))).toBe(entry.hash);
  });

  it.each<[string, { seq: number; hash: string } | null, AuditEntryInput]>([
    ['at without milliseconds', null, { ...input(), at: '2025-01-01T00:00:00Z' }],
    ['at with an offset', null, { ...input(), at: '2025-01-01T01:00:00.000+01:00' }],
    ['at on a day that does not exist', null, { ...input(), at: '2025-02-30T00:00:00.000Z' }],
    ['at as a Date', null, { ...input(), at: new Date(0) as unknown as string }],
    ['actor not a string', null, { ...input(), actor: 1 as unknown as string }],
    ['data an array', null, { ...input(), data: [] as unknown as Record<string, unknown> }],
    ['data with a BigInt', null, input({ n: 1n })],
    ['data with NaN', null, input({ n: Number.NaN })],
    ['previous seq 0', { seq: 0, hash: GENESIS_HASH }, input()],
    ['previous hash upper-case', { seq: 1, hash: 'A'.repeat(64) }, input()],
  ])('refuses misuse: %s', (_name, previous, bad) => {
    expect(() => chainEntry(previous, bad)).toThrow(TypeError);
  });
});

describe('entryHashTemplate', () => {
  /** What the database computes under the head's lock. */
  function hashFromTemplate(previous: { seq: number; hash: string } | null, entry: AuditEntryInput): string {
    const { head, tail } = entryHashTemplate(entry);
    const prevHash = previous?.hash ?? GENESIS_HASH;
    const seq = (previous?.seq ?? 0) + 1;
    return createHash('sha256').update(prevHash + head + prevHash + '","seq":' + String(seq) + tail, 'utf8').digest('hex');
  }

  it.each<[string, { seq: number; hash: string } | null, AuditEntryInput]>([
    ['the first entry', null, input()],
    ['a later entry', { seq: 41, hash: 'ab'.repeat(32) }, input({ b: 1, a: [true, null, 'x'] })],
    ['quotes, escapes and non-ASCII', { seq: 9_007_199_254_740_990, hash: 'f'.repeat(64) }, { ...input({ 'é': '"\n\u2028😀' }), actor: 'a"b\\c', subject: 'request:ü' }],
  ])('gives the hash chainEntry gives: %s', (_name, previous, entry) => {
    expect(hashFromTemplate(previous, entry)).toBe(chainEntry(previous, entry).hash);
  });

  it('refuses what chainEntry refuses', () => {
    expect(() => entryHashTemplate({ ...input(), at: '2025-01-01T00:00:00Z' })).toThrow(TypeError);
    expect(() => entryHashTemplate(input({ n: 1n }))).toThrow(TypeError);
  });
});
