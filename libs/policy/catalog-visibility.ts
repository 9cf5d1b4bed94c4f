import { canRequest } from './select-policy.js';
import type { PolicyDefinition, Principal } from './types.js';

/** Who reads the whole catalogue of credentials and policies: those who configure or audit it. */
const SEES_WHOLE_CATALOG: readonly string[] = ['admin', 'security_lead', 'auditor'];

function seesWholeCatalog(viewer: Principal): boolean {
  return viewer.roles.some((role) => SEES_WHOLE_CATALOG.includes(role));
}

/**
 * Whether `viewer` may see a credential (issue 15 item 3): admins, security leads and
 * auditors see every one; an operator those they hold a share of; a requester those a
 * policy of theirs lets them use. Everyone else learns nothing, not even that it exists.
 *
 * @example
 * canSeeCredential({ id: 'u1', kind: 'user', roles: ['operator'], groups: [] }, ['u1', 'u2'], []); // true
 */
export function canSeeCredential(viewer: Principal, custodianIds: readonly string[], policiesOfCredential: readonly PolicyDefinition[]): boolean {
  if (seesWholeCatalog(viewer) || custodianIds.includes(viewer.id)) return true;
  return policiesOfCredential.some((policy) => canRequest(policy, viewer));
}

/** Whether `viewer` may see a policy: the whole catalogue, a custodian of its credential, or someone it lets request. */
export function canSeePolicy(viewer: Principal, policy: PolicyDefinition, custodianIdsOfCredential: readonly string[]): boolean {
  return seesWholeCatalog(viewer) || custodianIdsOfCredential.includes(viewer.id) || canRequest(policy, viewer);
}
