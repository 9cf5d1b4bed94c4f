import type { Role } from '#libs/contracts';
import type { Principal } from '../auth/principal.js';

/**
 * Who may see and cancel a request: one place for the rule, in TypeScript for a
 * single request and in SQL for lists.
 */
const SEES_ALL_REQUESTS: readonly Role[] = ['admin', 'security_lead', 'auditor'];
const CANCELS_ANY_REQUEST: readonly Role[] = ['admin', 'security_lead'];

function holdsAny(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.some((r) => roles.includes(r));
}

/** Admins, security leads and auditors see every request; others those they submitted or hold a share for. */
export function canSee(principal: Principal, request: { requesterId: string }, custodianIds: readonly string[]): boolean {
  return request.requesterId === principal.id || custodianIds.includes(principal.id) || holdsAny(principal, SEES_ALL_REQUESTS);
}

/**
 * `canSee` as a condition on `requests r` for `principal`, its id bound at `$n`;
 * undefined: no condition (the principal sees every request).
 */
export function visibleRequestsSql(principal: Principal, n: number): { sql: string; value: string } | undefined {
  if (holdsAny(principal, SEES_ALL_REQUESTS)) return undefined;
  return {
    sql: `(r.requester_id = $${n} OR EXISTS (SELECT 1 FROM credential_shares s WHERE s.credential_id = r.credential_id AND s.version = r.credential_version AND s.custodian_id = $${n}))`,
    value: principal.id,
  };
}

/** The requester, an admin or a security lead. */
export function mayCancel(principal: Principal, request: { requesterId: string }): boolean {
  return request.requesterId === principal.id || holdsAny(principal, CANCELS_ANY_REQUEST);
}
