import type { RequestStatus } from '../contracts/index.js';
import { checkApprover } from './check-approver.js';
import { evaluatePolicy } from './evaluate-policy.js';
import { PolicyError } from './policy-error.js';
import type { Outcome, PolicyDefinition, RequestState, Vote } from './types.js';

/** The request as a vote finds it. */
export interface VotedRequest extends RequestState {
  status: RequestStatus;
}

/** One decision about to be recorded: who casts it, with their roles and groups. */
export interface CastVote {
  voter: { id: string; roles: string[]; groups: string[] };
  decision: Vote['decision'];
}

export type VoteResolution =
  /** The request had expired when the vote arrived: record nothing, expire the request. */
  | { counted: false; outcome: { status: 'expired' } }
  /** Record the vote; the request then stands as `outcome` says. */
  | { counted: true; vote: Vote; outcome: Outcome };

/**
 * Decides what one vote does to a request, as Teleport's `ApplyAccessReview` does.
 * Enforces, in this order:
 * 1. the request is `pending` (`REQUEST_NOT_PENDING`);
 * 2. at or after `expiresAt` the vote is not counted and the request is expired;
 * 3. the voter may vote (`checkApprover`: not the requester unless allowed, a custodian
 *    holding the operator role, no earlier vote);
 * 4. the request's outcome with this vote counted (`evaluatePolicy`).
 * Pure: the caller verifies the statement and the share before it stores the vote.
 *
 * @example
 * const resolution = applyVote(policy, { ...request, status: 'pending' }, votes,
 *   { voter: { id: 'u2', roles: ['operator'], groups: [] }, decision: 'approve' }, now);
 * if (resolution.counted && resolution.outcome.status === 'approved') { ... }
 */
export function applyVote(policy: PolicyDefinition, request: VotedRequest, votes: Vote[], cast: CastVote, now: Date): VoteResolution {
  if (request.status !== 'pending') throw new PolicyError('REQUEST_NOT_PENDING', `the request is ${request.status}`);
  if (request.expiresAt.getTime() <= now.getTime()) return { counted: false, outcome: { status: 'expired' } };
  checkApprover(policy, request, cast.voter, votes);
  const vote: Vote = { userId: cast.voter.id, decision: cast.decision, valid: true, groups: cast.voter.groups };
  return { counted: true, vote, outcome: evaluatePolicy(policy, request, [...votes, vote], now) };
}
