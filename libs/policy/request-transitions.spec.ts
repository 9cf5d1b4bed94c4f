import { REQUEST_STATUSES, type RequestStatus } from '../contracts/index.js';
import { assertLegalTransition, isLegalTransition } from './request-transitions.js';

// Written out by hand from PROTOCOL §4, not derived from the table under test.
const LEGAL = new Set([
  'pending→approved',
  'pending→rejected',
  'pending→expired',
  'pending→cancelled',
  'approved→executing',
  'approved→cancelled',
  'executing→succeeded',
  'executing→failed',
  'executing→pending',
  'executing→expired',
]);

const everyMove: [RequestStatus, RequestStatus, boolean][] = REQUEST_STATUSES.flatMap((from) =>
  REQUEST_STATUSES.map((to): [RequestStatus, RequestStatus, boolean] => [from, to, LEGAL.has(`${from}→${to}`)]),
);

describe('request transitions', () => {
  it('covers all 64 moves between the 8 statuses', () => {
    expect(everyMove).toHaveLength(64);
  });

  it.each(everyMove)('%s → %s legal: %s', (from, to, legal) => {
    expect(isLegalTransition(from, to)).toBe(legal);
    const call = (): void => assertLegalTransition(from, to);
    if (legal) expect(call).not.toThrow();
    else expect(call).toThrow(expect.objectContaining({ name: 'PolicyError', code: 'TRANSITION_ILLEGAL' }));
  });

  it.each(['succeeded', 'failed', 'rejected', 'expired', 'cancelled'] as const)('%s is final: it leads nowhere', (from) => {
    expect(REQUEST_STATUSES.filter((to) => isLegalTransition(from, to))).toEqual([]);
  });

  it.each(['', 'PENDING', '__proto__', 'toString'])('refuses an unknown status %j', (bogus) => {
    expect(isLegalTransition(bogus as RequestStatus, 'approved')).toBe(false);
    expect(isLegalTransition('pending', bogus as RequestStatus)).toBe(false);
  });
});
