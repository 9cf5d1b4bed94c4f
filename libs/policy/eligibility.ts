import type { PolicyDefinition, RequestState } from './types.js';

/** The requester, or the owner of the requesting service account: the people a no-self-approval policy keeps out. */
export function isOnRequesterSide(request: RequestState, userId: string): boolean {
  return userId === request.requesterId || (request.requesterOwnerId != null && userId === request.requesterOwnerId);
}

/** A custodian of the credential, and not on the requester's side unless the policy allows self-approval. */
export function isEligibleApprover(policy: PolicyDefinition, request: RequestState, userId: string): boolean {
  if (!request.custodianIds.includes(userId)) return false;
  return !isOnRequesterSide(request, userId) || policy.approvals.allowRequesterApproval === true;
}
