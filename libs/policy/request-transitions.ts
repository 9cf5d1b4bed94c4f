import type { RequestStatus } from '../contracts/index.js';
import { PolicyError } from './policy-error.js';

/**
 * The request lifecycle (PROTOCOL §4): every legal move of a request's status, and
 * nothing else. `executing → pending` is the way back when a bad share leaves too few
 * valid ones; `executing → expired` when that happens after the request's expiry.
 * The final statuses lead nowhere (§2 item 9).
 */
export const REQUEST_TRANSITIONS: { readonly [From in RequestStatus]: readonly RequestStatus[] } = {
  pending: ['approved', 'rejected', 'expired', 'cancelled'],
  // A new credential version cancels the older version's approved requests (§4a).
  approved: ['executing', 'cancelled'],
  executing: ['succeeded', 'failed', 'pending', 'expired'],
  succeeded: [],
  failed: [],
  rejected: [],
  expired: [],
  cancelled: [],
};

/**
 * Whether a request may move from `from` to `to`.
 *
 * @example
 * isLegalTransition('pending', 'approved'); // true
 * isLegalTransition('expired', 'approved'); // false
 */
export function isLegalTransition(from: RequestStatus, to: RequestStatus): boolean {
  return Object.hasOwn(REQUEST_TRANSITIONS, from) && REQUEST_TRANSITIONS[from].includes(to);
}

/**
 * Throws `TRANSITION_ILLEGAL` unless `from → to` is in the table: a caller asking for
 * another move has a bug, and nothing may be written.
 *
 * @example
 * assertLegalTransition(request.status, 'executing');
 */
export function assertLegalTransition(from: RequestStatus, to: RequestStatus): void {
  if (!isLegalTransition(from, to)) throw new PolicyError('TRANSITION_ILLEGAL', `a request cannot move from ${String(from)} to ${String(to)}`);
}
