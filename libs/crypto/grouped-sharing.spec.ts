import fc from 'fast-check';
import {
  combineGroupedShares,
  combineShares,
  computeShareCommitment,
  CryptoError,
  generateDataKey,
  openSealedSecret,
  sealSecret,
  splitGroupedDataKey,
  verifyShareCommitment,
  type GroupShape,
  type GroupShare,
} from './index.js';

/** Every subset of `items`, as bit masks (items.length ≤ 16 here). */
function* allSubsets<T>(items: readonly T[]): Generator<T[]> {
  for (let mask = 0; mask < 1 << items.length; mask++) yield items.filter((_, i) => (mask & (1 << i)) !== 0);
}

/** What the execution does: per group, exactly tⱼ shares (the first it has, in the given order); undefined when some group is short. */
function pickForCombine(groups: readonly GroupShape[], subset: readonly GroupShare[]): GroupShare[] | undefined {
  const picked: GroupShare[] = [];
  for (const [grp, g] of groups.entries()) {
    const mine = subset.filter((s) => s.grp === grp);
    if (mine.length < g.threshold) return undefined;
    picked.push(...mine.slice(0, g.threshold));
  }
  return picked;
}

/** Whatever a combine of this subset gives: the key, an error code, or wrong bytes. */
function attempt(groups: readonly GroupShape[], shares: readonly GroupShare[]): Buffer | string {
  try {
    return combineGroupedShares(
      groups.map((g) => g.threshold),
      shares,
    );
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    throw e;
  }
}

/** Shares short of group `grp`'s threshold (all its shares but tⱼ − 1 dropped), every other group's shares kept. */
function missingOneGroup(groups: readonly GroupShape[], shares: readonly GroupShare[], grp: number): GroupShare[] {
  const g = groups[grp] as GroupShape;
  const own = shares.filter((s) => s.grp === grp).slice(0, g.threshold - 1);
  return [...shares.filter((s) => s.grp !== grp), ...own];
}

describe('splitGroupedDataKey / combineGroupedShares (spec §3a)', () => {
  const structures: GroupShape[][] = [
    [
      { shares: 3, threshold: 2 },
      { shares: 1, threshold: 1 },
    ],
    [
      { shares: 2, threshold: 2 },
      { shares: 3, threshold: 1 },
    ],
    [
      { shares: 2, threshold: 1 },
      { shares: 2, threshold: 2 },
      { shares: 3, threshold: 2 },
    ],
    [
      { shares: 1, threshold: 1 },
      { shares: 2, threshold: 1 },
      { shares: 2, threshold: 2 },
      { shares: 3, threshold: 2 },
    ],
  ];

  it.each(structures.map((s) => [s.map((g) => `${g.threshold}of${g.shares}`).join('+'), s] as const))(
    '%s: every subset meeting all thresholds rebuilds the key; every subset missing a group does not (exhaustive)',
    (_name, groups) => {
      const dataKey = generateDataKey();
      const shares = splitGroupedDataKey(dataKey, groups);
      expect(shares).toHaveLength(groups.reduce((n, g) => n + g.shares, 0));
      let rebuilt = 0;
      let refused = 0;
      for (const subset of allSubsets(shares)) {
        const picked = pickForCombine(groups, subset);
        if (picked !== undefined) {
          const key = attempt(groups, picked);
          expect(Buffer.isBuffer(key) && key.equals(dataKey)).toBe(true);
          rebuilt++;
          continue;
        }
        // Short of some group: never the key.
        const result = attempt(groups, subset);
        expect(typeof result === 'string' || !result.equals(dataKey)).toBe(true);
        refused++;
      }
      expect(rebuilt).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    },
  );

  it('without one group, even all shares of every other group rebuild nothing: the other group keys are uniform noise', () => {
    for (const groups of structures) {
      const dataKey = generateDataKey();
      const shares = splitGroupedDataKey(dataKey, groups);
      for (let grp = 0; grp < groups.length; grp++) {
        const others = shares.filter((s) => s.grp !== grp);
        // XOR of every other group's full key: what a thief of all of them holds.
        const partial = Buffer.alloc(32);
        for (let j = 0; j < groups.length; j++) {
          if (j === grp) continue;
          const own = others.filter((s) => s.grp === j).map((s) => s.share);
          const key = combineShares(own);
          for (let b = 0; b < 32; b++) partial[b] = (partial[b] as number) ^ (key[b] as number);
        }
        expect(partial.equals(dataKey)).toBe(false);
        expect(attempt(groups, others)).toBe('SHARES_INSUFFICIENT');
        expect(attempt(groups, missingOneGroup(groups, shares, grp))).toBe('SHARES_INSUFFICIENT');
      }
    }
  });

  it('one group is exactly today\'s format: plain shamir shares, combinable with combineShares', () => {
    const dataKey = generateDataKey();
    const shares = splitGroupedDataKey(dataKey, [{ shares: 3, threshold: 2 }]);
    expect(shares.map((s) => [s.grp, s.idx])).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
    ]);
    expect(combineShares([shares[0]!.share, shares[2]!.share]).equals(dataKey)).toBe(true);
    expect((attempt([{ shares: 3, threshold: 2 }], [shares[1]!, shares[2]!]) as Buffer).equals(dataKey)).toBe(true);
  });

  it('property: random structures of 2–4 groups rebuild from any threshold-meeting pick and never from a pick short of one group', () => {
    const shape = fc.integer({ min: 1, max: 6 }).chain((n) => fc.record({ shares: fc.constant(n), threshold: fc.integer({ min: 1, max: n }) }));
    fc.assert(
      fc.property(
        fc.array(shape, { minLength: 2, maxLength: 4 }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
        fc.nat(),
        (groups, coins, victimSeed) => {
          const dataKey = generateDataKey();
          const shares = splitGroupedDataKey(dataKey, groups);
          // A random threshold-meeting pick: each group's shares shuffled by the coins, its first tⱼ taken.
          const it = coins[Symbol.iterator]();
          const shuffled = [...shares].sort(() => ((it.next().value as number) < 0.5 ? -1 : 1));
          const picked = pickForCombine(groups, shuffled);
          expect(picked).toBeDefined();
          const key = attempt(groups, picked!);
          expect(Buffer.isBuffer(key) && key.equals(dataKey)).toBe(true);
          const victim = victimSeed % groups.length;
          const short = attempt(groups, missingOneGroup(groups, shares, victim));
          expect(short).toBe('SHARES_INSUFFICIENT');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('property: a share of one group never stands in for another group, nor a share of another split', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 2, max: 4 }), (m, n) => {
        const groups = Array.from({ length: m }, () => ({ shares: n, threshold: 2 }));
        const dataKey = generateDataKey();
        const shares = splitGroupedDataKey(dataKey, groups);
        const other = splitGroupedDataKey(dataKey, groups);
        const honest = pickForCombine(groups, shares)!;
        // group 0's shares relabelled as group 1's: right counts, wrong keys
        const relabelled = [...honest.filter((s) => s.grp !== 1), ...shares.filter((s) => s.grp === 0).slice(0, 2).map((s) => ({ ...s, grp: 1 }))];
        const a = attempt(groups, relabelled);
        expect(typeof a === 'string' || !a.equals(dataKey)).toBe(true);
        // one group taken from another split of the same key: its group key differs
        const mixed = [...honest.filter((s) => s.grp !== 0), ...other.filter((s) => s.grp === 0).slice(0, 2)];
        const b = attempt(groups, mixed);
        expect(typeof b === 'string' || !b.equals(dataKey)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('a flipped bit in any share of any group is caught by its commitment (which binds grp)', () => {
    const groups = [
      { shares: 2, threshold: 2 },
      { shares: 2, threshold: 1 },
    ];
    const shares = splitGroupedDataKey(generateDataKey(), groups);
    for (const s of shares) {
      const c = { cred: 'cred_1', ver: 1, grp: s.grp, idx: s.idx, share: s.share };
      const commitment = computeShareCommitment(c);
      expect(() => verifyShareCommitment(c, commitment)).not.toThrow();
      expect(() => verifyShareCommitment({ ...c, grp: s.grp === 0 ? 1 : 0 }, commitment)).toThrow(CryptoError);
      const { grp: _grp, ...flat } = c;
      expect(() => verifyShareCommitment(flat, commitment)).toThrow(CryptoError);
      for (let byte = 0; byte < s.share.length; byte++) {
        for (const bit of [0x01, 0x80]) {
          const share = Buffer.from(s.share);
          share[byte] = (share[byte] as number) ^ bit;
          expect(() => verifyShareCommitment({ ...c, share }, commitment)).toThrow(expect.objectContaining({ code: 'SHARE_COMMITMENT_MISMATCH' }));
        }
      }
    }
  });

  it('a tampered share that passed no commitment still cannot open the sealed secret: the GCM tag refuses the wrong key', async () => {
    const groups = [
      { shares: 2, threshold: 1 },
      { shares: 1, threshold: 1 },
    ];
    const dataKey = generateDataKey();
    const meta = { cred: 'cred_1', ver: 1, kind: 'signing-key', config: {} };
    const sealed = await sealSecret(Buffer.from('the secret'), dataKey, meta);
    const shares = splitGroupedDataKey(dataKey, groups);
    let refusedByTag = 0;
    for (let byte = 2; byte < shares[2]!.share.length; byte++) {
      const tampered = Buffer.from(shares[2]!.share);
      tampered[byte] = (tampered[byte] as number) ^ 0x01;
      let key: Buffer;
      try {
        key = combineGroupedShares([1, 1], [shares[0]!, { ...shares[2]!, share: tampered }]);
      } catch (e) {
        // the group key came out of the wrong length
        expect(e).toMatchObject({ code: 'SHARE_INVALID' });
        continue;
      }
      // Some flips are invisible (the library drops each key byte's high byte on decode): the right key then.
      if (key.equals(dataKey)) continue;
      await expect(openSealedSecret(sealed, key, meta)).rejects.toMatchObject({ code: 'SECRET_UNSEAL_FAILED' });
      refusedByTag++;
    }
    expect(refusedByTag).toBeGreaterThan(16);
    const right = combineGroupedShares([1, 1], [shares[1]!, shares[2]!]);
    expect((await openSealedSecret(sealed, right, meta)).toString()).toBe('the secret');
  });

  it('refuses too many or too few shares per group, duplicates, unknown groups, mislabelled indexes', () => {
    const groups = [
      { shares: 3, threshold: 2 },
      { shares: 2, threshold: 1 },
    ];
    const s = splitGroupedDataKey(generateDataKey(), groups);
    const [a1, a2, a3, b1, b2] = s as [GroupShare, GroupShare, GroupShare, GroupShare, GroupShare];
    const cases: [GroupShare[], string][] = [
      [[a1, a2, a3, b1], 'SHARES_INSUFFICIENT'],
      [[a1, b1], 'SHARES_INSUFFICIENT'],
      [[a1, a2, b1, b2], 'SHARES_INSUFFICIENT'],
      [[a1, a1, b1], 'SHARES_INSUFFICIENT'],
      [[a1, a2, b1, { ...b2, grp: 2 }], 'SHARES_INSUFFICIENT'],
      [[a1, a2, { ...b1, grp: -1 }], 'SHARES_INSUFFICIENT'],
      [[a1, { ...a2, idx: 3 }, b1], 'SHARE_INVALID'],
      [[], 'SHARES_INSUFFICIENT'],
    ];
    for (const [input, code] of cases) expect(attempt(groups, input)).toBe(code);
    expect(attempt([{ shares: 3, threshold: 0 }, ...groups.slice(1)], [b1])).toBe('SHARES_INSUFFICIENT');
    expect(() => combineGroupedShares([], [])).toThrow(CryptoError);
  });

  it('throws TypeError on a structure that cannot be split', () => {
    const key = generateDataKey();
    const bad: GroupShape[][] = [
      [],
      [{ shares: 3, threshold: 4 }],
      [{ shares: 0, threshold: 0 }],
      [
        { shares: 33, threshold: 2 },
        { shares: 1, threshold: 1 },
      ],
      Array.from({ length: 17 }, () => ({ shares: 1, threshold: 1 })),
      [
        { shares: 2, threshold: 1.5 },
        { shares: 1, threshold: 1 },
      ],
    ];
    for (const groups of bad) expect(() => splitGroupedDataKey(key, groups)).toThrow(TypeError);
    expect(() => splitGroupedDataKey(key.subarray(0, 16), [{ shares: 1, threshold: 1 }])).toThrow(TypeError);
  });

  it('leaves the caller\'s data key intact and gives fresh group keys each time', () => {
    const dataKey = generateDataKey();
    const copy = Buffer.from(dataKey);
    const groups = [
      { shares: 1, threshold: 1 },
      { shares: 1, threshold: 1 },
    ];
    const a = splitGroupedDataKey(dataKey, groups);
    const b = splitGroupedDataKey(dataKey, groups);
    expect(dataKey.equals(copy)).toBe(true);
    expect(a[0]!.share.equals(b[0]!.share)).toBe(false);
  });
});
