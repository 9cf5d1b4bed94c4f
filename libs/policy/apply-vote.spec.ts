import { applyVote, type CastVote, type VotedRequest, type VoteResolution } from './apply-vote.js';
import type { PolicyErrorCode } from './policy-error.js';
import { policyWithApprovals } from './policy.testing.js';
import type { PolicyDefinition, Vote } from './types.js';

const now = new Date('2025-06-01T12:00:00.000Z');
const policy = (approvals: PolicyDefinition['approvals'] = { min: 2 }): PolicyDefinition => policyWithApprovals(approvals);
const request = (changes: Partial<VotedRequest> = {}): VotedRequest => ({
  status: 'pending',
  requesterId: 'alice',
  expiresAt: new Date('2025-06-01T13:00:00.000Z'),
  custodianIds: ['alice', 'bob', 'carol', 'dave'],
  ...changes,
});
const vote = (userId: string, decision: Vote['decision'], valid = true, groups: string[] = []): Vote => ({ userId, decision, valid, groups });
const cast = (id: string, decision: Vote['decision'], roles = ['operator'], groups: string[] = []): CastVote => ({ voter: { id, roles, groups }, decision });

type Expected = PolicyErrorCode | VoteResolution['outcome']['status'] | 'not counted';

describe('applyVote', () => {
  it.each<[string, PolicyDefinition, VotedRequest, Vote[], CastVote, Expected]>([
    ['first approval of two', policy(), request(), [], cast('bob', 'approve'), 'pending'],
    ['second approval meets the quorum', policy(), request(), [vote('carol', 'approve')], cast('bob', 'approve'), 'approved'],
    ['a reject vetoes', policy(), request(), [vote('carol', 'approve')], cast('bob', 'reject'), 'rejected'],
    ['an invalidated approval does not count', policy(), request(), [vote('carol', 'approve', false)], cast('bob', 'approve'), 'pending'],
    ['approved request: no more votes', policy(), request({ status: 'approved' }), [], cast('bob', 'approve'), 'REQUEST_NOT_PENDING'],
    ['executing request: no more votes', policy(), request({ status: 'executing' }), [], cast('bob', 'approve'), 'REQUEST_NOT_PENDING'],
    ['expired status: no more votes', policy(), request({ status: 'expired' }), [], cast('bob', 'approve'), 'REQUEST_NOT_PENDING'],
    ['cancelled request: no more votes', policy(), request({ status: 'cancelled' }), [], cast('bob', 'reject'), 'REQUEST_NOT_PENDING'],
    ['rejected request: no more votes', policy(), request({ status: 'rejected' }), [], cast('bob', 'approve'), 'REQUEST_NOT_PENDING'],
    ['after expiry: not counted', policy(), request({ expiresAt: now }), [vote('carol', 'approve')], cast('bob', 'approve'), 'not counted'],
    ['after expiry, even a stranger: not counted', policy(), request({ expiresAt: new Date(now.getTime() - 1) }), [], cast('mallory', 'approve', []), 'not counted'],
    ['not pending wins over expiry', policy(), request({ status: 'succeeded', expiresAt: now }), [], cast('bob', 'approve'), 'REQUEST_NOT_PENDING'],
    ['self-approval refused', policy(), request(), [], cast('alice', 'approve'), 'APPROVAL_SELF_FORBIDDEN'],
    ['self-approval allowed by the policy', policy({ min: 1, allowRequesterApproval: true }), request(), [], cast('alice', 'approve'), 'approved'],
    ['non-custodian refused', policy(), request(), [], cast('mallory', 'approve'), 'APPROVER_NOT_ELIGIBLE'],
    ['custodian without the operator role refused', policy(), request(), [], cast('bob', 'approve', ['requester']), 'APPROVER_NOT_ELIGIBLE'],
    ['second vote of the same person refused', policy(), request(), [vote('bob', 'approve')], cast('bob', 'approve'), 'APPROVAL_DUPLICATE'],
    ['a vote invalidated earlier still blocks a second', policy(), request(), [vote('bob', 'approve', false)], cast('bob', 'approve'), 'APPROVAL_DUPLICATE'],
    ['group rule unmet: pending', policy({ min: 2, groups: [{ group: 'sec', min: 1 }] }), request(), [vote('carol', 'approve', true, ['sre'])], cast('bob', 'approve', ['operator'], ['sre']), 'pending'],
    ['group rule met by this vote', policy({ min: 2, groups: [{ group: 'sec', min: 1 }] }), request(), [vote('carol', 'approve', true, ['sre'])], cast('bob', 'approve', ['operator'], ['sec']), 'approved'],
  ])('%s', (_name, pol, req, votes, castVote, expected) => {
    const call = (): VoteResolution => applyVote(pol, req, votes, castVote, now);
    if (expected === 'not counted') {
      expect(call()).toEqual({ counted: false, outcome: { status: 'expired' } });
    } else if (['pending', 'approved', 'rejected', 'expired'].includes(expected)) {
      const resolution = call();
      expect(resolution.counted).toBe(true);
      expect(resolution.outcome.status).toBe(expected);
    } else {
      expect(call).toThrow(expect.objectContaining({ name: 'PolicyError', code: expected }));
    }
  });

  it('returns the vote it counted, with the voter groups', () => {
    const resolution = applyVote(policy(), request(), [], cast('bob', 'approve', ['operator'], ['sre']), now);
    expect(resolution).toEqual({
      counted: true,
      vote: { userId: 'bob', decision: 'approve', valid: true, groups: ['sre'] },
      outcome: { status: 'pending', approvals: 1, required: 2, missingGroups: [] },
    });
  });

  it('names the approvers once the quorum is met and the vetoing custodian on a reject', () => {
    expect(applyVote(policy(), request(), [vote('carol', 'approve')], cast('bob', 'approve'), now).outcome).toEqual({ status: 'approved', approverIds: ['carol', 'bob'] });
    expect(applyVote(policy(), request(), [], cast('dave', 'reject'), now).outcome).toEqual({ status: 'rejected', rejectedBy: 'dave' });
  });
});
