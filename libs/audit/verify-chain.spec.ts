import { type AuditEntry, chainEntry, computeEntryHash, GENESIS_HASH } from './audit-entry.js';
import { verifyChain } from './verify-chain.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');

function buildChain(length: number, genesis: { seq: number; hash: string } | null = null): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let i = 0; i < length; i += 1) {
    const previous = entries[entries.length - 1] ?? genesis;
    entries.push(
      chainEntry(previous, {
        at: new Date(T0 + i * 1_000).toISOString(),
        actor: `user-${i % 3}`,
        action: i % 2 === 0 ? 'approval.create' : 'request.create',
        subject: `request:r${i}`,
        data: { index: i, nested: { decision: 'approve', tags: ['a', 'b'] } },
      }),
    );
  }
  return entries;
}

const chain = buildChain(50);
const flipHex = (hex: string): string => (hex[0] === '0' ? '1' : '0') + hex.slice(1);

type Field = keyof AuditEntry;
const tamper: Record<Field, (e: AuditEntry) => AuditEntry> = {
  seq: (e) => ({ ...e, seq: e.seq + 100 }),
  at: (e) => ({ ...e, at: new Date(Date.parse(e.at) + 1).toISOString() }),
  actor: (e) => ({ ...e, actor: `${e.actor}x` }),
  action: (e) => ({ ...e, action: 'audit.read' }),
  subject: (e) => ({ ...e, subject: `${e.subject} ` }),
  data: (e) => ({ ...e, data: { ...e.data, nested: { decision: 'reject', tags: ['a', 'b'] } } }),
  prevHash: (e) => ({ ...e, prevHash: flipHex(e.prevHash) }),
  hash: (e) => ({ ...e, hash: flipHex(e.hash) }),
};

describe('verifyChain', () => {
  it('verifies a chain of 50 entries', () => {
    expect(verifyChain(chain)).toEqual({ ok: true, entries: 50, headHash: chain[49]?.hash });
  });

  it('verifies a chain that went through JSON, as it comes back from the database', () => {
    expect(verifyChain(JSON.parse(JSON.stringify(chain)) as AuditEntry[]).ok).toBe(true);
  });

  it('verifies an empty chain to the genesis hash', () => {
    expect(verifyChain([])).toEqual({ ok: true, entries: 0, headHash: GENESIS_HASH });
  });

  const positions = [1, 2, 17, 49, 50];
  const cases = (Object.keys(tamper) as Field[]).flatMap((field) => positions.map((seq) => [field, seq] as const));
  it.each(cases)('detects a changed %s at seq %d', (field, seq) => {
    const entries = chain.map((e) => (e.seq === seq ? tamper[field](e) : e));
    const result = verifyChain(entries);
    expect(result).toMatchObject({ ok: false, firstBadSeq: seq, entries: seq - 1, headHash: chain[seq - 2]?.hash ?? GENESIS_HASH });
    expect(result.reason).toEqual(expect.any(String));
  });

  it.each<[string, (entries: AuditEntry[]) => AuditEntry[], number, RegExp]>([
    ['a removed middle entry', (es) => es.filter((e) => e.seq !== 10), 10, /expected seq 10, found 11/],
    ['a removed first entry', (es) => es.slice(1), 1, /expected seq 1, found 2/],
    ['two swapped entries', (es) => swap(es, 10, 11), 10, /expected seq 10, found 11/],
    ['two swapped entries renumbered', (es) => renumberedSwap(es, 10, 11), 10, /prevHash of seq 10/],
    ['a repeated entry', (es) => [...es.slice(0, 5), es[3] as AuditEntry, ...es.slice(5)], 6, /expected seq 6, found 4/],
    ['a wrong genesis', () => forgedGenesis(), 1, /genesis/],
    ['an entry whose at is a Date', (es) => es.map((e) => (e.seq === 7 ? { ...e, at: new Date(e.at) as unknown as string } : e)), 7, /malformed/],
    ['an entry with an upper-case hash', (es) => es.map((e) => (e.seq === 8 ? { ...e, hash: e.hash.toUpperCase() } : e)), 8, /malformed/],
    ['an entry that is null', (es) => es.map((e) => (e.seq === 9 ? (null as unknown as AuditEntry) : e)), 9, /malformed/],
  ])('detects %s', (_name, change, firstBadSeq, reason) => {
    const result = verifyChain(change(chain));
    expect(result).toMatchObject({ ok: false, firstBadSeq });
    expect(result.reason).toMatch(reason);
  });

  it('cannot see a removed tail on its own (a checkpoint can: see checkpoint.spec.ts)', () => {
    expect(verifyChain(chain.slice(0, 45))).toMatchObject({ ok: true, entries: 45 });
  });

  it('verifies a slice from an anchor', () => {
    const anchor = { seq: 25, hash: chain[24]?.hash ?? '' };
    expect(verifyChain(chain.slice(25), anchor)).toEqual({ ok: true, entries: 25, headHash: chain[49]?.hash });
    expect(verifyChain([], anchor)).toEqual({ ok: true, entries: 0, headHash: anchor.hash });
  });

  it.each<[string, { seq: number; hash: string }, number]>([
    ['an anchor with another hash', { seq: 25, hash: flipHex(chain[24]?.hash ?? '') }, 26],
    ['an anchor one seq too early', { seq: 24, hash: chain[23]?.hash ?? '' }, 25],
  ])('refuses a slice after %s', (_name, anchor, firstBadSeq) => {
    expect(verifyChain(chain.slice(25), anchor)).toMatchObject({ ok: false, firstBadSeq });
  });

  it('refuses misuse', () => {
    expect(() => verifyChain('nope' as unknown as AuditEntry[])).toThrow(TypeError);
    expect(() => verifyChain(chain, { seq: -1, hash: GENESIS_HASH })).toThrow(TypeError);
  });
});

function swap(entries: AuditEntry[], seqA: number, seqB: number): AuditEntry[] {
  const out = [...entries];
  const [a, b] = [out[seqA - 1] as AuditEntry, out[seqB - 1] as AuditEntry];
  out[seqA - 1] = b;
  out[seqB - 1] = a;
  return out;
}

// Swaps the contents of two rows but keeps seq in place, and rehashes each moved row on its own.
function renumberedSwap(entries: AuditEntry[], seqA: number, seqB: number): AuditEntry[] {
  return swap(entries, seqA, seqB).map((e, i) => {
    if (e.seq === i + 1) return e;
    const moved = { ...e, seq: i + 1 };
    return { ...moved, hash: computeEntryHash(moved) };
  });
}

function forgedGenesis(): AuditEntry[] {
  const { hash: _hash, ...original } = chain[0] as AuditEntry;
  const unhashed = { ...original, prevHash: 'f'.repeat(64) };
  const first = { ...unhashed, hash: computeEntryHash(unhashed) };
  return [first, ...buildChain(4, first).map((e) => ({ ...e, seq: e.seq }))];
}
