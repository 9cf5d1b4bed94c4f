import { matchesOperation } from './match-operation.js';
import type { Operation, PolicyDefinition, Principal } from './types.js';

/**
 * Whether `principal` may submit requests under `policy`. Without a `requesters`
 * rule, any principal holding the role `requester`; with one, a principal that holds
 * a listed role, or is a listed user (kind `user`) or service account (kind `service_account`).
 *
 * @example
 * canRequest(policy, { id: 'sa-ci', kind: 'service_account', roles: ['requester'], groups: [] }); // true
 */
export function canRequest(policy: PolicyDefinition, principal: Principal): boolean {
  const rule = policy.requesters;
  if (rule === undefined) return principal.roles.includes('requester');
  if ((rule.roles ?? []).some((role) => principal.roles.includes(role))) return true;
  switch (principal.kind) {
    case 'user':
      return (rule.users ?? []).includes(principal.id);
    case 'service_account':
      return (rule.serviceAccounts ?? []).includes(principal.id);
    default:
      return false;
  }
}

/**
 * The policy that governs `op` for `principal`: the first, in name order (then id,
 * compared by code unit, so the choice never depends on locale or input order), that
 * admits the principal and has an operation rule matching `op`. `undefined`: refuse.
 *
 * @example
 * const policy = selectPolicy(policiesOfCredential, principal, { kind: 'http', params: { method: 'GET', path: '/x' } });
 * if (!policy) throw new ForbiddenError();
 */
export function selectPolicy(
  policies: PolicyDefinition[],
  principal: Principal,
  op: Operation,
): PolicyDefinition | undefined {
  return [...policies]
    .sort((a, b) => compareCodeUnits(a.name, b.name) || compareCodeUnits(a.id, b.id))
    .find((policy) => canRequest(policy, principal) && policy.operations.some((rule) => matchesOperation(rule, op)));
}

function compareCodeUnits(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
