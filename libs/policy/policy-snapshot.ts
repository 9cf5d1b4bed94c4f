import type { PolicyDefinition } from './types.js';

/**
 * What of a policy a request's digest binds (spec §5, revision 2): the rules, not
 * the name or the time limit. The gateway hashes the JCS of this object into
 * `digestInput.policy.sha256` and evaluates the request against the snapshot it
 * kept, never against the live policy row.
 *
 * @example
 * const sha256 = sha256Hex(canonicalJson(policyDigestSubject(policy)));
 */
export function policyDigestSubject(policy: PolicyDefinition): Record<string, unknown> {
  return {
    credentialId: policy.credentialId,
    operations: policy.operations,
    approvals: policy.approvals,
    requesters: policy.requesters ?? null,
    requestTtlSeconds: policy.requestTtlSeconds,
  };
}
