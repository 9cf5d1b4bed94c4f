import { assessCustody, custodianLiveness, quorumMargin, type CustodianFacts } from './index.js';

const NOW = new Date('2027-03-01T12:00:00Z');
const DAY = 24 * 3600 * 1000;
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY);
const live: CustodianFacts = { userId: 'u', enabled: true, roles: ['operator'], keysUnchanged: true, lastCheckInAt: daysAgo(10), sealedAt: daysAgo(100) };
const window = { checkInDays: 90, now: NOW };

describe('custodianLiveness (spec §4a)', () => {
  it.each<[string, Partial<CustodianFacts>, string[]]>([
    ['live', {}, []],
    ['disabled', { enabled: false }, ['disabled']],
    ['without the operator role', { roles: ['requester', 'auditor'] }, ['no_operator_role']],
    ['with changed keys', { keysUnchanged: false }, ['keys_changed']],
    ['checked in 89 days ago', { lastCheckInAt: daysAgo(89) }, []],
    ['checked in exactly 90 days ago', { lastCheckInAt: daysAgo(90) }, ['check_in_overdue']],
    ['never checked in, sealed 30 days ago', { lastCheckInAt: null, sealedAt: daysAgo(30) }, []],
    ['never checked in, sealed 91 days ago', { lastCheckInAt: null, sealedAt: daysAgo(91) }, ['check_in_overdue']],
    ['checked in on an older version only (before the seal)', { lastCheckInAt: daysAgo(200), sealedAt: daysAgo(5) }, []],
    ['everything at once', { enabled: false, roles: [], keysUnchanged: false, lastCheckInAt: null }, ['disabled', 'no_operator_role', 'keys_changed', 'check_in_overdue']],
  ])('%s', (_, change, reasons) => {
    const result = custodianLiveness({ ...live, ...change }, window);
    expect(result.reasons).toEqual(reasons);
    expect(result.live).toBe(reasons.length === 0);
  });

  it('says when the window closes, and honours a shorter window', () => {
    expect(custodianLiveness(live, window).checkInDueAt).toEqual(new Date(daysAgo(10).getTime() + 90 * DAY));
    expect(custodianLiveness(live, { checkInDays: 7, now: NOW }).reasons).toEqual(['check_in_overdue']);
    expect(() => custodianLiveness(live, { checkInDays: 0, now: NOW })).toThrow(TypeError);
  });
});

describe('quorumMargin', () => {
  it.each([
    [[{ threshold: 2, live: 3 }], 1],
    [[{ threshold: 2, live: 2 }], 0],
    [[{ threshold: 3, live: 1 }], -2],
    [[{ threshold: 2, live: 4 }, { threshold: 1, live: 1 }], 0],
  ])('%j → %i', (groups, margin) => expect(quorumMargin(groups)).toBe(margin));

  it('refuses no groups', () => expect(() => quorumMargin([])).toThrow(TypeError));
});

describe('assessCustody', () => {
  it('counts live custodians per group and takes the tightest group', () => {
    const health = assessCustody(
      [
        { name: 'sre', threshold: 2, custodians: [live, { ...live, userId: 'v' }, { ...live, userId: 'w', enabled: false }] },
        { name: 'security', threshold: 1, custodians: [{ ...live, userId: 'x', lastCheckInAt: null, sealedAt: daysAgo(120) }, { ...live, userId: 'y' }] },
      ],
      window,
    );
    expect(health.groups.map((g) => [g.name, g.live])).toEqual([['sre', 2], ['security', 1]]);
    expect(health.margin).toBe(0);
  });
});
