import { fingerprint, reviewLines, reviewReshare, reviewRotate, type ReviewGroup, type ReviewPerson, type ReviewWarningCode } from './index.js';

const KID = (who: string, n = 1): string => `${who.toUpperCase()}${n}`.padEnd(43, 'k');
const PEOPLE: Record<string, ReviewPerson> = {
  a: { username: 'alice', kid: KID('a') },
  b: { username: 'bob', kid: KID('b') },
  c: { username: 'carol', kid: KID('c') },
  d: { username: 'dave', kid: KID('d') },
  e: { username: 'erin', kid: KID('e') },
  r: { username: 'rita', kid: KID('r') },
  n: { username: 'nokeys', kid: null },
};
const person = (id: string): ReviewPerson | undefined => PEOPLE[id];
const member = (id: string) => ({ userId: id, username: PEOPLE[id]?.username ?? id, kid: PEOPLE[id]?.kid ?? null });
const flat = (threshold: number, ids: string[]): ReviewGroup[] => [{ name: 'custodians', threshold, custodians: ids.map(member) }];
const to = (ids: string[]) => ids.map((id) => ({ userId: id, kid: PEOPLE[id]?.kid ?? null }));
const proposeFlat = (threshold: number, ids: string[]) => ({ threshold, custodians: to(ids) });

const TWO_GROUPS: ReviewGroup[] = [
  { name: 'sre', threshold: 2, custodians: ['a', 'b', 'c'].map(member) },
  { name: 'security', threshold: 1, custodians: ['d', 'e'].map(member) },
];

function codes(current: ReviewGroup[], proposed: unknown, requesterId = 'r'): ReviewWarningCode[] {
  return reviewReshare({ current, proposed, person, requesterId })
    .warnings.map((w) => w.code)
    .sort();
}

describe('reviewReshare: warnings', () => {
  const cases: [string, ReviewGroup[], unknown, ReviewWarningCode[]][] = [
    ['2-of-3 → 2-of-3 with one person swapped', flat(2, ['a', 'b', 'c']), proposeFlat(2, ['b', 'c', 'd']), []],
    ['same set: a refresh', flat(2, ['a', 'b', 'c']), proposeFlat(2, ['a', 'b', 'c']), []],
    ['a stronger structure', flat(2, ['a', 'b', 'c']), proposeFlat(3, ['a', 'b', 'c', 'd']), []],
    ['lower threshold', flat(3, ['a', 'b', 'c']), proposeFlat(2, ['a', 'b', 'c']), ['threshold_lowered', 'total_threshold_lowered']],
    ['fewer custodians', flat(2, ['a', 'b', 'c']), proposeFlat(2, ['a', 'b']), ['fewer_custodians', 'fewer_custodians']],
    ['threshold 1: anyone alone', flat(2, ['a', 'b', 'c']), proposeFlat(1, ['a', 'b', 'c']), ['one_person_meets_group', 'threshold_lowered', 'total_threshold_lowered']],
    ['threshold 1 with the requester in it', flat(1, ['a', 'b']), proposeFlat(1, ['a', 'r']), ['one_person_meets_group', 'requester_meets_group']],
    ['one person named twice of threshold 2', flat(2, ['a', 'b', 'c']), proposeFlat(2, ['a', 'a', 'c']), ['one_person_meets_group', 'person_holds_several_shares']],
    ['the requester named twice of threshold 2', flat(2, ['a', 'b', 'c']), proposeFlat(2, ['r', 'r', 'c']), ['person_holds_several_shares', 'requester_meets_group']],
    ['threshold above the size', flat(2, ['a', 'b', 'c']), proposeFlat(4, ['a', 'b', 'c']), ['threshold_above_size']],
    ['a threshold of 0', flat(2, ['a', 'b', 'c']), proposeFlat(0, ['a', 'b', 'c']), ['threshold_above_size', 'threshold_lowered', 'total_threshold_lowered']],
    ['an unknown user', flat(2, ['a', 'b', 'c']), proposeFlat(2, ['a', 'b', 'zz']), ['unknown_custodian']],
    ['a user without keys', flat(2, ['a', 'b', 'c']), proposeFlat(2, ['a', 'b', 'n']), ['key_not_enrolled_key']],
    ['a kid that is not the enrolled key', flat(2, ['a', 'b', 'c']), { threshold: 2, custodians: [...to(['a', 'b']), { userId: 'c', kid: KID('x') }] }, ['key_not_enrolled_key']],
    ['grouped: a group dropped', TWO_GROUPS, { groups: [{ name: 'sre', threshold: 2, custodians: to(['a', 'b', 'c']) }] }, ['fewer_custodians', 'fewer_groups', 'group_removed', 'total_threshold_lowered']],
    [
      'grouped: both groups kept, one threshold lowered',
      TWO_GROUPS,
      { groups: [{ name: 'sre', threshold: 1, custodians: to(['a', 'b', 'c']) }, { name: 'security', threshold: 1, custodians: to(['d', 'e']) }] },
      ['one_person_meets_group', 'one_person_meets_group', 'threshold_lowered', 'total_threshold_lowered'],
    ],
    ['grouped → flat', TWO_GROUPS, proposeFlat(3, ['a', 'b', 'c', 'd', 'e']), ['fewer_groups', 'group_removed', 'group_removed']],
    ['flat → grouped, stronger', flat(2, ['a', 'b', 'c']), { groups: [{ name: 'sre', threshold: 2, custodians: to(['a', 'b', 'c']) }, { name: 'security', threshold: 2, custodians: to(['d', 'e']) }] }, []],
    ['not a sharing at all', flat(2, ['a', 'b', 'c']), { custodians: 'a,b' }, ['proposal_invalid']],
    ['null', flat(2, ['a', 'b', 'c']), null, ['proposal_invalid']],
    ['a custodian that is a number', flat(2, ['a', 'b', 'c']), { threshold: 2, custodians: [1, 2] }, ['proposal_invalid']],
  ];
  it.each(cases)('%s', (_name, current, proposed, expected) => {
    expect(codes(current, proposed)).toEqual([...expected].sort());
  });

  it('names the requester, and only once per group, when they can meet a group alone', () => {
    const review = reviewReshare({ current: flat(1, ['a', 'b']), proposed: proposeFlat(1, ['a', 'r']), person, requesterId: 'r' });
    const requester = review.warnings.filter((w) => w.code === 'requester_meets_group');
    expect(requester).toHaveLength(1);
    expect(requester[0]?.message).toMatch(/rita/);
    expect(review.warnings.find((w) => w.code === 'one_person_meets_group')?.message).toMatch(/alice/);
    expect(review.warnings.find((w) => w.code === 'one_person_meets_group')?.message).not.toMatch(/rita/);
  });
});

describe('reviewReshare: a viewer who cannot list every user', () => {
  it('warns neither about people it does not know nor about keys it cannot see, but still about every weakening', () => {
    const partial = (id: string): ReviewPerson | undefined => (id === 'a' || id === 'b' ? { username: PEOPLE[id]!.username } : undefined);
    const review = reviewReshare({ current: flat(2, ['a', 'b', 'c']), proposed: proposeFlat(1, ['a', 'b', 'zz']), person: partial, requesterId: 'r', directoryComplete: false });
    expect(review.warnings.map((w) => w.code).sort()).toEqual(['one_person_meets_group', 'threshold_lowered', 'total_threshold_lowered']);
    expect(review.groups[0]?.added.map((c) => c.username)).toEqual(['unknown user zz']);
  });
});

describe('reviewReshare: old → new per group', () => {
  it('lists the added, removed and kept custodians with their key fingerprints', () => {
    const review = reviewReshare({ current: flat(2, ['a', 'b', 'c']), proposed: proposeFlat(2, ['b', 'c', 'd']), person, requesterId: 'r' });
    expect(review.groups).toHaveLength(1);
    const [g] = review.groups;
    expect(g?.old).toEqual({ threshold: 2, size: 3 });
    expect(g?.new).toEqual({ threshold: 2, size: 3 });
    expect(g?.added.map((c) => [c.username, c.fingerprint])).toEqual([['dave', fingerprint(KID('d'))]]);
    expect(g?.removed.map((c) => [c.username, c.fingerprint])).toEqual([['alice', fingerprint(KID('a'))]]);
    expect(g?.kept.map((c) => c.username)).toEqual(['bob', 'carol']);
    expect(review.refresh).toBe(false);
    expect(review.totals).toEqual({ old: { threshold: 2, custodians: 3, groups: 1 }, new: { threshold: 2, custodians: 3, groups: 1 } });
  });

  it('calls the same set a refresh', () => {
    expect(reviewReshare({ current: flat(2, ['a', 'b', 'c']), proposed: proposeFlat(2, ['c', 'b', 'a']), person, requesterId: 'r' }).refresh).toBe(true);
  });

  it('shows a custodian kept with a new key (re-enrolled) as re-keyed, old → new fingerprint', () => {
    const current = flat(2, ['a', 'b', 'c']);
    const newA = KID('a', 2);
    const review = reviewReshare({
      current,
      proposed: { threshold: 2, custodians: [{ userId: 'a', kid: newA }, ...to(['b', 'c'])] },
      person: (id) => (id === 'a' ? { username: 'alice', kid: newA } : person(id)),
      requesterId: 'r',
    });
    expect(review.warnings).toEqual([]);
    expect(review.groups[0]?.rekeyed).toEqual([expect.objectContaining({ username: 'alice', fingerprint: fingerprint(newA), oldFingerprint: fingerprint(KID('a')) })]);
    expect(review.refresh).toBe(false);
  });

  it('matches groups by name; an unmatched old group is shown as removed, a new one as added', () => {
    const review = reviewReshare({
      current: TWO_GROUPS,
      proposed: { groups: [{ name: 'sre', threshold: 2, custodians: to(['a', 'b', 'c']) }, { name: 'dba', threshold: 1, custodians: to(['d']) }] },
      person,
      requesterId: 'r',
    });
    expect(review.groups.map((g) => [g.name, g.old, g.new])).toEqual([
      ['sre', { threshold: 2, size: 3 }, { threshold: 2, size: 3 }],
      ['dba', null, { threshold: 1, size: 1 }],
      ['security', { threshold: 1, size: 2 }, null],
    ]);
    expect(review.warnings.map((w) => w.code)).toContain('group_removed');
  });

  it('renders lines with every warning first', () => {
    const review = reviewReshare({ current: flat(3, ['a', 'b', 'c']), proposed: proposeFlat(1, ['b', 'c', 'd']), person, requesterId: 'r' });
    const lines = reviewLines(review);
    expect(lines[0]).toMatch(/^WARNING/);
    expect(lines).toContain('group "custodians": 3 of 3 → 1 of 3');
    expect(lines).toContain(`  + dave  key ${fingerprint(KID('d'))}`);
    expect(lines).toContain(`  - alice  key ${fingerprint(KID('a'))}`);
  });
});

describe('reviewRotate', () => {
  const current = { baseUrl: 'https://api.example.com', header: 'Authorization', scheme: 'Bearer' };
  const cases: [string, unknown, { secret: string; warnings: ReviewWarningCode[] }][] = [
    ['a sealed new secret only', { secret: 'eyJ.jwe' }, { secret: 'sealed', warnings: [] }],
    ['a generated key', { generate: { alg: 'ES256' } }, { secret: 'generated', warnings: [] }],
    ['a new base URL', { config: { ...current, baseUrl: 'https://evil.example.net' } }, { secret: 'unchanged', warnings: ['destination_changed'] }],
    ['a new header name', { config: { ...current, header: 'X-Token' } }, { secret: 'unchanged', warnings: ['config_changed'] }],
    ['the same config in another order', { config: { scheme: 'Bearer', header: 'Authorization', baseUrl: 'https://api.example.com' } }, { secret: 'unchanged', warnings: [] }],
    ['a host added', { secret: 'x', config: { ...current, host: 'other' } }, { secret: 'sealed', warnings: ['destination_changed'] }],
    ['the base URL removed', { config: { header: 'Authorization', scheme: 'Bearer' } }, { secret: 'unchanged', warnings: ['destination_changed'] }],
    ['both secret and generate', { secret: 'x', generate: { alg: 'ES256' } }, { secret: 'generated', warnings: ['proposal_invalid'] }],
    ['nothing', {}, { secret: 'unchanged', warnings: ['proposal_invalid'] }],
    ['a config that is not an object', { config: 'baseUrl=x' }, { secret: 'unchanged', warnings: ['proposal_invalid'] }],
    ['params that are not an object', 'x', { secret: 'unchanged', warnings: ['proposal_invalid'] }],
  ];
  it.each(cases)('%s', (_name, params, expected) => {
    const review = reviewRotate({ currentConfig: current, params });
    expect(review.secret).toBe(expected.secret);
    expect(review.warnings.map((w) => w.code).sort()).toEqual([...expected.warnings].sort());
  });

  it('gives the diff by member and says loudly that the secret goes elsewhere', () => {
    const review = reviewRotate({ currentConfig: current, params: { config: { baseUrl: 'https://evil.example.net', header: 'Authorization', timeoutMs: 5 } } });
    expect(review.config).toEqual({
      changed: true,
      added: [{ key: 'timeoutMs', to: 5 }],
      removed: [{ key: 'scheme', from: 'Bearer' }],
      modified: [{ key: 'baseUrl', from: 'https://api.example.com', to: 'https://evil.example.net' }],
    });
    expect(review.warnings[0]?.message).toMatch(/DIFFERENT DESTINATION/);
    const lines = reviewLines(review);
    expect(lines).toContain('  ~ baseUrl: "https://api.example.com" → "https://evil.example.net"');
    expect(lines).toContain('  + timeoutMs: 5');
    expect(lines).toContain('  - scheme: "Bearer"');
  });
});

describe('fingerprint', () => {
  it('shortens a thumbprint into groups of four, and says when there is none', () => {
    expect(fingerprint('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')).toBe('NzbL-sXh8-uDCc-d-6M');
    expect(fingerprint(null)).toBe('(no key)');
  });
});
