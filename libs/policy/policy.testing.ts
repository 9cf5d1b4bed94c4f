import type { PolicyDefinition } from './types.js';

/** A `kubernetes.exec` policy with the given approval rule, for the policy specs. */
export function policyWithApprovals(approvals: PolicyDefinition['approvals']): PolicyDefinition {
  return { id: 'pol-1', name: 'prod exec', credentialId: 'cred-1', operations: [{ kind: 'kubernetes.exec' }], approvals, requestTtlSeconds: 3600 };
}
