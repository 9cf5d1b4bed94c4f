/** Stable codes a caller may map to HTTP statuses. */
export type PolicyErrorCode =
  | 'POLICY_INVALID'
  | 'APPROVAL_SELF_FORBIDDEN'
  | 'APPROVER_NOT_ELIGIBLE'
  | 'APPROVAL_DUPLICATE'
  | 'REQUEST_NOT_PENDING'
  | 'TRANSITION_ILLEGAL';

/**
 * A policy decision refused, or a policy or state that cannot be right.
 *
 * @example
 * try { checkApprover(policy, request, approver, votes); }
 * catch (e) { if (e instanceof PolicyError && e.code === 'APPROVAL_DUPLICATE') { ... } }
 */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';

  constructor(
    readonly code: PolicyErrorCode,
    message: string,
    /** Every problem found, when a validation reports several at once. */
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
  }
}
