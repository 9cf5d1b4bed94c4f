import { checkApprover } from './check-approver.js';
import type { PolicyErrorCode } from './policy-error.js';
import type { PolicyDefinition, RequestState, Vote } from './types.js';

const policy = (allowRequesterApproval?: boolean): PolicyDefinition => ({
  id: 'pol-1',
  name: 'prod exec',
  credentialId: 'cred-1',
  operations: [{ kind: 'kubernetes.exec' }],
  approvals: { min: 2, allowRequesterApproval },
  requestTtlSeconds: 3600,
});
const request: RequestState = {
  requesterId: 'alice',
  expiresAt: new Date('2025-06-01T13:00:00.000Z'),
  custodianIds: ['alice', 'bob', 'carol'],
};
const operator = (id: string): { id: string; roles: string[] } => ({ id, roles: ['operator'] });
const vote = (userId: string, decision: Vote['decision'], valid = true): Vote => ({ userId, decision, valid, groups: [] });

describe('checkApprover', () => {
  it.each<[string, PolicyDefinition, { id: string; roles: string[] }, Vote[], PolicyErrorCode | null]>([
    ['custodian operator, first vote', policy(), operator('bob'), [vote('carol', 'approve')], null],
    ['requester approving own request', policy(), operator('alice'), [], 'APPROVAL_SELF_FORBIDDEN'],
    ['requester approving own request, explicitly disallowed', policy(false), operator('alice'), [], 'APPROVAL_SELF_FORBIDDEN'],
    ['requester approving own request, allowed', policy(true), operator('alice'), [], null],
    ['non-custodian', policy(), operator('mallory'), [], 'APPROVER_NOT_ELIGIBLE'],
    ['custodian without the operator role', policy(), { id: 'bob', roles: ['requester', 'auditor'] }, [], 'APPROVER_NOT_ELIGIBLE'],
    ['already approved', policy(), operator('bob'), [vote('bob', 'approve')], 'APPROVAL_DUPLICATE'],
    ['already rejected', policy(), operator('bob'), [vote('bob', 'reject')], 'APPROVAL_DUPLICATE'],
    ['earlier vote invalidated still blocks', policy(), operator('bob'), [vote('bob', 'approve', false)], 'APPROVAL_DUPLICATE'],
    ['requester already voted, allowed', policy(true), operator('alice'), [vote('alice', 'approve')], 'APPROVAL_DUPLICATE'],
    ['self check comes before eligibility', { ...policy(), approvals: { min: 1 } }, { id: 'alice', roles: [] }, [], 'APPROVAL_SELF_FORBIDDEN'],
  ])('%s', (_name, pol, approver, votes, code) => {
    const call = (): void => checkApprover(pol, request, approver, votes);
    if (code === null) expect(call).not.toThrow();
    else expect(call).toThrow(expect.objectContaining({ name: 'PolicyError', code }));
  });

  it('refuses an approver without an id as misuse', () => {
    expect(() => checkApprover(policy(), request, { id: '', roles: ['operator'] }, [])).toThrow(TypeError);
  });
});
