import { describe, expect, it } from '@jest/globals';
import { PROBLEM_CODES } from '../../../libs/contracts/index.ts';
import { describeProblem, personMessage, problemSentence } from './messages.ts';

/** Shaped as api.ts's ApiError (messages.ts recognises it by shape, without importing api.ts). */
function apiError(status: number, detail: string, code?: string, correlationId?: string): Error {
  return Object.assign(new Error(detail), { name: 'ApiError', status, title: '', detail, code, correlationId });
}

describe('messages for people', () => {
  it.each(PROBLEM_CODES)('has a sentence for %s that is not the code itself', (code) => {
    const { sentence } = problemSentence(code, 'some detail');
    expect(sentence.length).toBeGreaterThan(15);
    expect(sentence).not.toContain(code);
    expect(sentence).toMatch(/^[A-Z].*[.!]$/);
  });

  it('words a refusal, keeping the gateway detail and the reference for the small print', () => {
    expect(personMessage(apiError(409, 'you already decided on this request', 'APPROVAL_DUPLICATE', 'req-7'))).toEqual({
      sentence: 'This request was already decided by you: your decision is recorded.',
      detail: 'you already decided on this request',
      reference: 'APPROVAL_DUPLICATE · trace req-7',
    });
  });

  it('puts the detail inside the sentence where the detail is what matters', () => {
    const m = personMessage(apiError(400, 'operation.params: params.pod must be a DNS-1123 name.', 'VALIDATION_FAILED', 'r1'));
    expect(m).toEqual({ sentence: 'The gateway did not accept what was entered: operation.params: params.pod must be a DNS-1123 name.', detail: null, reference: 'VALIDATION_FAILED · trace r1' });
    expect(describeProblem(apiError(403, 'no policy', 'NO_MATCHING_POLICY'))).toBe(
      'No policy lets you run this operation on this credential. Change what you ask for, or ask a security lead for a policy. (no policy)',
    );
  });

  it('falls back to the detail for a code it does not know, and hides a 5xx behind its reference', () => {
    expect(personMessage(apiError(409, 'the policy is outdated', 'policy_outdated', 'r2'))).toEqual({ sentence: 'the policy is outdated', detail: null, reference: 'policy_outdated · trace r2' });
    expect(personMessage(apiError(500, 'internal error', undefined, 'r3'))).toMatchObject({ detail: null, reference: 'trace r3' });
    expect(personMessage(apiError(0, 'The gateway did not answer.'))).toEqual({ sentence: 'The gateway did not answer.', detail: null, reference: null });
    expect(personMessage(new TypeError('boom'))).toEqual({ sentence: 'boom', detail: null, reference: null });
  });
});
