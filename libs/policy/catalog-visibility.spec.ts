import { canSeeCredential, canSeePolicy } from './catalog-visibility.js';
import type { PolicyDefinition, Principal } from './types.js';

const person = (id: string, roles: string[]): Principal => ({ id, kind: 'user', roles, groups: [] });
const policy = (requesters?: PolicyDefinition['requesters']): PolicyDefinition => ({
  id: 'p1', name: 'p', credentialId: 'c1', operations: [{ kind: 'sign' }], approvals: { min: 1 }, requestTtlSeconds: 3600, ...(requesters ? { requesters } : {}),
});

describe('who sees a credential or a policy', () => {
  it.each(['admin', 'security_lead', 'auditor'])('%s sees every credential and policy', (role) => {
    expect(canSeeCredential(person('x', [role]), [], [])).toBe(true);
    expect(canSeePolicy(person('x', [role]), policy({ users: ['someone-else'] }), [])).toBe(true);
  });

  it('an operator sees the credentials they hold a share of and their policies, not the others', () => {
    const op = person('op', ['operator']);
    expect(canSeeCredential(op, ['op', 'b'], [])).toBe(true);
    expect(canSeeCredential(op, ['a', 'b'], [policy()])).toBe(false);
    expect(canSeePolicy(op, policy({ users: ['x'] }), ['op'])).toBe(true);
    expect(canSeePolicy(op, policy(), ['a'])).toBe(false);
  });

  it('a requester sees what a policy lets them use, and only that', () => {
    const requester = person('r', ['requester']);
    expect(canSeeCredential(requester, ['a'], [policy()])).toBe(true);
    expect(canSeeCredential(requester, ['a'], [policy({ users: ['someone-else'] })])).toBe(false);
    expect(canSeeCredential(requester, ['a'], [])).toBe(false);
    expect(canSeePolicy(requester, policy({ roles: ['admin'] }), ['a'])).toBe(false);
    expect(canSeePolicy(person('r', ['requester']), policy({ users: ['r'] }), ['a'])).toBe(true);
  });
});
