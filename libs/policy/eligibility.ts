import type { PolicyDefinition, RequestState } from './types.js';

/** A custodian of the credential, and not the requester unless the policy allows self-approval. */
export function isEligibleApprover(policy: PolicyDefinition, request: RequestState, userId: string): boolean {
  if (!request.custodianIds.includes(userId)) return false;
  return userId !== request.requesterId || policy.approvals.allowRequesterApproval === true;
}
