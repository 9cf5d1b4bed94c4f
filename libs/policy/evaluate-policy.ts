import { isEligibleApprover } from './eligibility.js';
import { PolicyError } from './policy-error.js';
import type { Outcome, PolicyDefinition, RequestState, Vote } from './types.js';

/**
 * Decides a request from its votes at instant `now`. Enforces, in this order:
 * 1. inputs that cannot be right (min < 1 or above the custodian count, a group min < 1,
 *    an invalid date, an unknown decision) throw `POLICY_INVALID` instead of deciding;
 * 2. at or after `expiresAt` the request is expired, whatever the votes say;
 * 3. a valid reject from an eligible approver vetoes;
 * 4. only valid approvals of eligible approvers count (custodians; the requester only when
 *    `allowRequesterApproval`), each user once, with the groups of their first counted vote;
 * 5. approved when the count reaches `approvals.min`, every group rule its own min and,
 *    for a grouped credential (spec §3a), every sharing group's threshold is met by its
 *    own members' counted approvals (fewer shares of a group cannot rebuild the key).
 *
 * @example
 * evaluatePolicy(policy, { requesterId: 'u-req', expiresAt, custodianIds: ['u1', 'u2', 'u3'] },
 *   [{ userId: 'u1', decision: 'approve', valid: true, groups: ['sre'] }], new Date('2025-01-01T00:00:00Z'));
 * // { status: 'pending', approvals: 1, required: 2, missingGroups: [] }
 */
export function evaluatePolicy(policy: PolicyDefinition, request: RequestState, votes: Vote[], now: Date): Outcome {
  assertDecidable(policy, request, votes, now);

  if (now.getTime() >= request.expiresAt.getTime()) return { status: 'expired' };

  const approvers = new Map<string, string[]>();
  let rejectedBy: string | undefined;
  for (const vote of votes) {
    if (!vote.valid || !isEligibleApprover(policy, request, vote.userId)) continue;
    switch (vote.decision) {
      case 'reject':
        rejectedBy ??= vote.userId;
        break;
      case 'approve':
        if (!approvers.has(vote.userId)) approvers.set(vote.userId, vote.groups);
        break;
      default:
        return unknownDecision(vote.decision);
    }
  }
  if (rejectedBy !== undefined) return { status: 'rejected', rejectedBy };

  const missingGroups = (policy.approvals.groups ?? []).flatMap(({ group, min }) => {
    let have = 0;
    for (const groups of approvers.values()) if (groups.includes(group)) have += 1;
    return have >= min ? [] : [{ group, needed: min - have }];
  });
  const missingShareGroups = request.shareGroups?.flatMap(({ name, threshold, members }, grp) => {
    const have = members.filter((id) => approvers.has(id)).length;
    return have >= threshold ? [] : [{ grp, name, needed: threshold - have }];
  });
  if (approvers.size >= policy.approvals.min && missingGroups.length === 0 && (missingShareGroups ?? []).length === 0) {
    return { status: 'approved', approverIds: [...approvers.keys()] };
  }
  return { status: 'pending', approvals: approvers.size, required: policy.approvals.min, missingGroups, ...(missingShareGroups !== undefined ? { missingShareGroups } : {}) };
}

function unknownDecision(decision: never): never {
  throw new PolicyError('POLICY_INVALID', `unknown vote decision ${JSON.stringify(decision)}`);
}

function assertDecidable(policy: PolicyDefinition, request: RequestState, votes: Vote[], now: Date): void {
  const invalid = (message: string): never => {
    throw new PolicyError('POLICY_INVALID', `policy ${policy.id}: ${message}`);
  };
  if (!isValidDate(now)) invalid('now is not a valid date');
  if (!isValidDate(request.expiresAt)) invalid('request expiresAt is not a valid date');
  if (!Array.isArray(request.custodianIds) || request.custodianIds.length === 0) invalid('the request has no custodians');
  if (!Array.isArray(votes)) invalid('votes must be an array');
  const { min, groups = [] } = policy.approvals;
  if (!Number.isInteger(min) || min < 1) invalid(`approvals.min must be an integer ≥ 1, got ${String(min)}`);
  if (min > new Set(request.custodianIds).size) {
    invalid(`approvals.min ${min} exceeds the ${new Set(request.custodianIds).size} custodians: it can never be met`);
  }
  for (const g of request.shareGroups ?? []) {
    if (!Number.isInteger(g.threshold) || g.threshold < 1 || !Array.isArray(g.members)) invalid(`sharing group ${String(g.name)} has no usable threshold`);
  }
  for (const rule of groups) {
    if (typeof rule.group !== 'string' || rule.group === '') invalid('a group rule has no group name');
    if (!Number.isInteger(rule.min) || rule.min < 1) {
      invalid(`group ${rule.group} min must be an integer ≥ 1, got ${String(rule.min)}`);
    }
  }
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}
