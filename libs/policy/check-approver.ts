import { isEligibleApprover, isOnRequesterSide } from './eligibility.js';
import { PolicyError } from './policy-error.js';
import type { PolicyDefinition, RequestState, Vote } from './types.js';

/**
 * Refuses a vote before it is recorded. Enforces, in this order:
 * 1. the requester does not vote on their own request unless `allowRequesterApproval`
 *    (`APPROVAL_SELF_FORBIDDEN`);
 * 2. the voter is a custodian of the credential and holds the role `operator`
 *    (`APPROVER_NOT_ELIGIBLE`);
 * 3. the voter has no vote on this request yet, valid or not (`APPROVAL_DUPLICATE`): a vote
 *    invalidated by a bad share stays final, as the database's UNIQUE (request, approver) keeps it.
 * Request state and expiry are the caller's to check (see `evaluatePolicy`).
 *
 * @example
 * checkApprover(policy, request, { id: 'u1', roles: ['operator'] }, votes); // throws PolicyError or returns
 */
export function checkApprover(
  policy: PolicyDefinition,
  request: RequestState,
  approver: { id: string; roles: string[] },
  votes: Vote[],
): void {
  if (typeof approver.id !== 'string' || approver.id === '') {
    throw new TypeError('checkApprover: approver.id must be a non-empty string');
  }
  if (isOnRequesterSide(request, approver.id) && policy.approvals.allowRequesterApproval !== true) {
    const who = approver.id === request.requesterId ? 'the requester' : "the owner of the requesting service account";
    throw new PolicyError('APPROVAL_SELF_FORBIDDEN', `${who} cannot approve this request under this policy`);
  }
  if (!isEligibleApprover(policy, request, approver.id)) {
    throw new PolicyError('APPROVER_NOT_ELIGIBLE', 'only custodians of the credential may decide this request');
  }
  if (!approver.roles.includes('operator')) {
    throw new PolicyError('APPROVER_NOT_ELIGIBLE', "deciding a request needs the role 'operator'");
  }
  if (votes.some((vote) => vote.userId === approver.id)) {
    throw new PolicyError('APPROVAL_DUPLICATE', 'this user has already decided this request');
  }
}
