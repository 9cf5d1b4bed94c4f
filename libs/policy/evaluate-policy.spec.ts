import { evaluatePolicy } from './evaluate-policy.js';
import { PolicyError } from './policy-error.js';
import { policyWithApprovals } from './policy.testing.js';
import type { Outcome, PolicyDefinition, RequestState, Vote } from './types.js';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const EXPIRES = new Date('2025-06-01T13:00:00.000Z');

const policy = policyWithApprovals;
const request: RequestState = { requesterId: 'alice', expiresAt: EXPIRES, custodianIds: ['alice', 'bob', 'carol', 'dave'] };
const approve = (userId: string, groups: string[] = [], valid = true): Vote => ({ userId, decision: 'approve', valid, groups });
const reject = (userId: string, valid = true): Vote => ({ userId, decision: 'reject', valid, groups: [] });
const pending = (approvals: number, required: number, missingGroups: { group: string; needed: number }[] = []): Outcome => ({
  status: 'pending',
  approvals,
  required,
  missingGroups,
});

describe('evaluatePolicy', () => {
  it.each<[string, PolicyDefinition, Vote[], Date, Outcome]>([
    ['no votes', policy({ min: 2 }), [], NOW, pending(0, 2)],
    ['one of two', policy({ min: 2 }), [approve('bob')], NOW, pending(1, 2)],
    ['two of two', policy({ min: 2 }), [approve('bob'), approve('carol')], NOW, { status: 'approved', approverIds: ['bob', 'carol'] }],
    ['more than needed: all counted', policy({ min: 2 }), [approve('bob'), approve('carol'), approve('dave')], NOW, { status: 'approved', approverIds: ['bob', 'carol', 'dave'] }],
    ['self-approval not counted by default', policy({ min: 2 }), [approve('alice'), approve('bob')], NOW, pending(1, 2)],
    ['self-approval counted when allowed', policy({ min: 2, allowRequesterApproval: true }), [approve('alice'), approve('bob')], NOW, { status: 'approved', approverIds: ['alice', 'bob'] }],
    ['duplicate approver counts once', policy({ min: 2 }), [approve('bob'), approve('bob')], NOW, pending(1, 2)],
    ['non-custodian not counted', policy({ min: 2 }), [approve('bob'), approve('mallory')], NOW, pending(1, 2)],
    ['invalid vote not counted', policy({ min: 2 }), [approve('bob'), approve('carol', [], false)], NOW, pending(1, 2)],
    ['veto by a custodian', policy({ min: 2 }), [approve('bob'), approve('carol'), reject('dave')], NOW, { status: 'rejected', rejectedBy: 'dave' }],
    ['first veto named', policy({ min: 2 }), [reject('dave'), reject('carol')], NOW, { status: 'rejected', rejectedBy: 'dave' }],
    ['reject wins over the same user approving', policy({ min: 1 }), [approve('bob'), reject('bob')], NOW, { status: 'rejected', rejectedBy: 'bob' }],
    ['invalid reject does not veto', policy({ min: 1 }), [approve('bob'), reject('carol', false)], NOW, { status: 'approved', approverIds: ['bob'] }],
    ['non-custodian reject does not veto', policy({ min: 1 }), [approve('bob'), reject('mallory')], NOW, { status: 'approved', approverIds: ['bob'] }],
    ['requester reject does not veto (cancel instead)', policy({ min: 1 }), [approve('bob'), reject('alice')], NOW, { status: 'approved', approverIds: ['bob'] }],
    ['requester reject vetoes when self-approval allowed', policy({ min: 1, allowRequesterApproval: true }), [approve('bob'), reject('alice')], NOW, { status: 'rejected', rejectedBy: 'alice' }],
    ['1 ms before expiry still decides', policy({ min: 1 }), [approve('bob')], new Date(EXPIRES.getTime() - 1), { status: 'approved', approverIds: ['bob'] }],
    ['exactly at expiry', policy({ min: 1 }), [approve('bob')], EXPIRES, { status: 'expired' }],
    ['after expiry, even if vetoed', policy({ min: 1 }), [reject('bob')], new Date(EXPIRES.getTime() + 1), { status: 'expired' }],
    ['after expiry, with no votes', policy({ min: 1 }), [], new Date(EXPIRES.getTime() + 60_000), { status: 'expired' }],
    [
      'group minimum missing',
      policy({ min: 2, groups: [{ group: 'sre', min: 1 }] }),
      [approve('bob', ['dev']), approve('carol', ['dev'])],
      NOW,
      pending(2, 2, [{ group: 'sre', needed: 1 }]),
    ],
    [
      'group minimum met',
      policy({ min: 2, groups: [{ group: 'sre', min: 1 }] }),
      [approve('bob', ['dev']), approve('carol', ['sre', 'dev'])],
      NOW,
      { status: 'approved', approverIds: ['bob', 'carol'] },
    ],
    [
      'two groups, one short',
      policy({ min: 3, groups: [{ group: 'sre', min: 2 }, { group: 'sec', min: 1 }] }),
      [approve('bob', ['sre']), approve('carol', ['sec'])],
      NOW,
      pending(2, 3, [{ group: 'sre', needed: 1 }]),
    ],
    [
      'duplicate voter counts once in a group',
      policy({ min: 1, groups: [{ group: 'sre', min: 2 }] }),
      [approve('bob', ['sre']), approve('bob', ['sre'])],
      NOW,
      pending(1, 1, [{ group: 'sre', needed: 1 }]),
    ],
    [
      'groups of a later duplicate vote are ignored',
      policy({ min: 1, groups: [{ group: 'sre', min: 1 }] }),
      [approve('bob', ['dev']), approve('bob', ['sre'])],
      NOW,
      pending(1, 1, [{ group: 'sre', needed: 1 }]),
    ],
    [
      'invalid vote not counted in a group',
      policy({ min: 1, groups: [{ group: 'sre', min: 1 }] }),
      [approve('bob', ['dev']), approve('carol', ['sre'], false)],
      NOW,
      pending(1, 1, [{ group: 'sre', needed: 1 }]),
    ],
    [
      'self-approval not counted in a group',
      policy({ min: 1, groups: [{ group: 'sre', min: 1 }] }),
      [approve('bob', ['dev']), approve('alice', ['sre'])],
      NOW,
      pending(1, 1, [{ group: 'sre', needed: 1 }]),
    ],
  ])('%s', (_name, pol, votes, now, expected) => {
    expect(evaluatePolicy(pol, request, votes, now)).toEqual(expected);
  });

  it.each<[string, PolicyDefinition, RequestState, Vote[], Date]>([
    ['min 0', policy({ min: 0 }), request, [], NOW],
    ['min negative', policy({ min: -1 }), request, [], NOW],
    ['min fractional', policy({ min: 1.5 }), request, [], NOW],
    ['min NaN', policy({ min: Number.NaN }), request, [], NOW],
    ['min above the custodians', policy({ min: 5 }), request, [], NOW],
    ['group min 0', policy({ min: 1, groups: [{ group: 'sre', min: 0 }] }), request, [], NOW],
    ['group without a name', policy({ min: 1, groups: [{ group: '', min: 1 }] }), request, [], NOW],
    ['no custodians', policy({ min: 1 }), { ...request, custodianIds: [] }, [], NOW],
    ['invalid now', policy({ min: 1 }), request, [], new Date(Number.NaN)],
    ['invalid expiresAt', policy({ min: 1 }), { ...request, expiresAt: new Date('nope') }, [], NOW],
    ['unknown decision', policy({ min: 1 }), request, [{ userId: 'bob', decision: 'abstain' as 'approve', valid: true, groups: [] }], NOW],
  ])('refuses an impossible input: %s', (_name, pol, req, votes, now) => {
    const call = (): Outcome => evaluatePolicy(pol, req, votes, now);
    expect(call).toThrow(PolicyError);
    expect(call).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
  });
});

describe('evaluatePolicy with sharing groups (spec §3a)', () => {
  const short = (approvals: number, required: number, missingShareGroups: { grp: number; name: string; needed: number }[]): Outcome => ({
    status: 'pending',
    approvals,
    required,
    missingGroups: [],
    missingShareGroups,
  });
  // {SRE bob, carol, dave: 2 of 3; security erin: 1 of 1}, policy min 3
  const grouped: RequestState = {
    requesterId: 'alice',
    expiresAt: EXPIRES,
    custodianIds: ['bob', 'carol', 'dave', 'erin'],
    shareGroups: [
      { name: 'sre', threshold: 2, members: ['bob', 'carol', 'dave'] },
      { name: 'security', threshold: 1, members: ['erin'] },
    ],
  };

  it.each<[string, PolicyDefinition, Vote[], Outcome]>([
    [
      'policy met by three SREs, security missing: pending',
      policy({ min: 3 }),
      [approve('bob'), approve('carol'), approve('dave')],
      short(3, 3, [{ grp: 1, name: 'security', needed: 1 }]),
    ],
    [
      'policy loosened to 2 (a database writer): still pending without security',
      policy({ min: 2 }),
      [approve('bob'), approve('carol')],
      short(2, 2, [{ grp: 1, name: 'security', needed: 1 }]),
    ],
    ['every group met and the policy: approved', policy({ min: 3 }), [approve('bob'), approve('erin'), approve('dave')], { status: 'approved', approverIds: ['bob', 'erin', 'dave'] }],
    [
      'groups met but the policy asks more: pending, no group missing',
      policy({ min: 4 }),
      [approve('bob'), approve('carol'), approve('erin')],
      short(3, 4, []),
    ],
    [
      'an invalid share does not count for its group',
      policy({ min: 3 }),
      [approve('bob'), approve('carol'), approve('erin', [], false)],
      short(2, 3, [{ grp: 1, name: 'security', needed: 1 }]),
    ],
    ['a veto still vetoes', policy({ min: 3 }), [approve('bob'), approve('carol'), reject('erin')], { status: 'rejected', rejectedBy: 'erin' }],
  ])('%s', (_name, p, votes, expected) => {
    expect(evaluatePolicy(p, grouped, votes, NOW)).toEqual(expected);
  });

  it('refuses a sharing group without a usable threshold', () => {
    const broken: RequestState = { ...grouped, shareGroups: [{ name: 'sre', threshold: 0, members: ['bob'] }] };
    expect(() => evaluatePolicy(policy({ min: 1 }), broken, [], NOW)).toThrow(PolicyError);
  });
});
