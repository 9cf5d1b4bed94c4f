import { canRequest, selectPolicy } from './select-policy.js';
import type { Operation, PolicyDefinition, Principal } from './types.js';

const base: Omit<PolicyDefinition, 'id' | 'name'> = {
  credentialId: 'cred-1',
  operations: [{ kind: 'kubernetes.exec', constraints: { namespace: 'prod-*' } }],
  approvals: { min: 2 },
  requestTtlSeconds: 3600,
};
const user = (id: string, roles: string[]): Principal => ({ id, kind: 'user', roles, groups: [] });
const sa = (id: string, roles: string[]): Principal => ({ id, kind: 'service_account', roles, groups: [] });

describe('canRequest', () => {
  const open: PolicyDefinition = { ...base, id: 'p', name: 'open' };
  const listed: PolicyDefinition = {
    ...base,
    id: 'p',
    name: 'listed',
    requesters: { roles: ['security_lead'], users: ['u-ann'], serviceAccounts: ['sa-ci'] },
  };
  it.each<[string, PolicyDefinition, Principal, boolean]>([
    ['no rule: requester role', open, user('u-bob', ['requester']), true],
    ['no rule: service account with requester role', open, sa('sa-x', ['requester']), true],
    ['no rule: no requester role', open, user('u-bob', ['operator', 'admin']), false],
    ['rule: listed role', listed, user('u-bob', ['security_lead']), true],
    ['rule: listed user', listed, user('u-ann', []), true],
    ['rule: listed service account', listed, sa('sa-ci', []), true],
    ['rule: requester role alone is not enough', listed, user('u-bob', ['requester']), false],
    ['rule: user id listed only as a service account', listed, user('sa-ci', []), false],
    ['rule: service account id listed only as a user', listed, sa('u-ann', []), false],
    ['rule: unknown principal kind', listed, { id: 'u-ann', kind: 'robot' as 'user', roles: [], groups: [] }, false],
    ['empty rule admits nobody', { ...open, requesters: {} }, user('u-bob', ['requester']), false],
  ])('%s', (_name, policy, principal, expected) => {
    expect(canRequest(policy, principal)).toBe(expected);
  });
});

describe('selectPolicy', () => {
  const op: Operation = { kind: 'kubernetes.exec', params: { namespace: 'prod-eu', pod: 'api-0', command: ['ls'] } };
  const alpha: PolicyDefinition = { ...base, id: 'p-3', name: 'alpha' };
  const beta: PolicyDefinition = { ...base, id: 'p-1', name: 'beta' };
  const alphaTwin: PolicyDefinition = { ...base, id: 'p-2', name: 'alpha' };
  const upper: PolicyDefinition = { ...base, id: 'p-4', name: 'Zulu' };
  const staging: PolicyDefinition = { ...base, id: 'p-5', name: 'aaa staging', operations: [{ kind: 'kubernetes.exec', constraints: { namespace: 'staging-*' } }] };
  const ciOnly: PolicyDefinition = { ...base, id: 'p-6', name: 'aab ci', requesters: { serviceAccounts: ['sa-ci'] } };
  const requester = user('u-bob', ['requester']);

  it.each<[string, PolicyDefinition[], Principal, string | undefined]>([
    ['first by name', [beta, alpha], requester, 'p-3'],
    ['same name: first by id', [alpha, alphaTwin, beta], requester, 'p-2'],
    ['code-unit order, not locale order', [alpha, upper], requester, 'p-4'],
    ['skips a policy whose constraints do not match', [staging, beta], requester, 'p-1'],
    ['skips a policy that does not admit the principal', [ciOnly, beta], requester, 'p-1'],
    ['picks the policy that admits the service account', [beta, ciOnly], sa('sa-ci', []), 'p-6'],
    ['nothing matches', [staging, ciOnly], requester, undefined],
    ['no policies', [], requester, undefined],
  ])('%s', (_name, policies, principal, expectedId) => {
    expect(selectPolicy(policies, principal, op)?.id).toBe(expectedId);
  });

  it('is the same for every input order and leaves the input alone', () => {
    const policies = [beta, alphaTwin, staging, alpha, upper, ciOnly];
    const snapshot = [...policies];
    const orders = [policies, [...policies].reverse(), [ciOnly, alpha, upper, staging, beta, alphaTwin]];
    expect(orders.map((order) => selectPolicy(order, requester, op)?.id)).toEqual(['p-4', 'p-4', 'p-4']);
    expect(policies).toEqual(snapshot);
  });
});
