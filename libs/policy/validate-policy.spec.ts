import { PolicyError } from './policy-error.js';
import type { CredentialFacts, PolicyDefinition } from './types.js';
import { validatePolicyDefinition } from './validate-policy.js';

const credential: CredentialFacts = {
  threshold: 2,
  custodianIds: ['u1', 'u2', 'u3', 'u4'],
  custodianGroups: { sre: ['u1', 'u2', 'outsider'], sec: ['u3'] },
};
const valid: PolicyDefinition = {
  id: 'pol-1',
  name: 'prod exec',
  credentialId: 'cred-1',
  operations: [{ kind: 'kubernetes.exec', constraints: { namespace: 'prod-*', command: ['kubectl', 'get', '**'] } }],
  approvals: { min: 3, groups: [{ group: 'sre', min: 2 }, { group: 'sec', min: 1 }], allowRequesterApproval: false },
  requesters: { roles: ['requester'] },
  requestTtlSeconds: 3600,
};
const withApprovals = (approvals: PolicyDefinition['approvals']): PolicyDefinition => ({ ...valid, approvals });
const loose = (patch: Record<string, unknown>): PolicyDefinition => ({ ...valid, ...patch }) as PolicyDefinition;

describe('validatePolicyDefinition', () => {
  it.each<[string, PolicyDefinition]>([
    ['the full example', valid],
    ['min equal to the threshold', withApprovals({ min: 2 })],
    ['min equal to the custodians', withApprovals({ min: 4 })],
    ['no requesters rule', loose({ requesters: undefined })],
    ['TTL at the low bound', loose({ requestTtlSeconds: 60 })],
    ['TTL at the high bound', loose({ requestTtlSeconds: 604_800 })],
    ['operation without constraints', loose({ operations: [{ kind: 'sign' }] })],
  ])('accepts %s', (_name, def) => {
    expect(() => validatePolicyDefinition(def, credential)).not.toThrow();
  });

  it.each<[string, PolicyDefinition, string]>([
    ['min below the threshold', withApprovals({ min: 1 }), 'below the credential threshold 2'],
    ['min above the custodians', withApprovals({ min: 5 }), "exceeds the credential's 4 custodians"],
    ['min not an integer', withApprovals({ min: 2.5 }), 'approvals.min must be an integer'],
    ['group min 0', withApprovals({ min: 2, groups: [{ group: 'sre', min: 0 }] }), 'approvals.groups[0].min must be an integer ≥ 1'],
    ['group min above its custodians (non-custodian members do not count)', withApprovals({ min: 3, groups: [{ group: 'sre', min: 3 }] }), 'exceeds the 2 custodians in group sre'],
    ['unknown group', withApprovals({ min: 2, groups: [{ group: 'ops', min: 1 }] }), 'exceeds the 0 custodians in group ops'],
    ['group named twice', withApprovals({ min: 3, groups: [{ group: 'sre', min: 1 }, { group: 'sre', min: 2 }] }), 'group sre appears twice'],
    ['group without a name', withApprovals({ min: 2, groups: [{ group: '', min: 1 }] }), 'approvals.groups[0].group must be a non-empty string'],
    ['allowRequesterApproval not a boolean', withApprovals({ min: 2, allowRequesterApproval: 'yes' as unknown as boolean }), 'must be a boolean'],
    ['empty operations', loose({ operations: [] }), 'operations must list at least one operation rule'],
    ['operations missing', loose({ operations: undefined }), 'operations must list at least one operation rule'],
    ['operation kind empty', loose({ operations: [{ kind: '' }] }), 'operations[0].kind must be an operation kind'],
    ['constraint of a number', loose({ operations: [{ kind: 'http', constraints: { port: 443 } }] }), 'operations[0].constraints.port must be'],
    ['constraint array with a number', loose({ operations: [{ kind: 'http', constraints: { m: ['GET', 1] } }] }), 'operations[0].constraints.m must be'],
    ['constraints as an array', loose({ operations: [{ kind: 'http', constraints: ['x'] }] }), 'operations[0].constraints must be an object'],
    ['TTL 59 s', loose({ requestTtlSeconds: 59 }), 'requestTtlSeconds must be an integer in 60..604800, got 59'],
    ['TTL above a week', loose({ requestTtlSeconds: 604_801 }), 'got 604801'],
    ['TTL fractional', loose({ requestTtlSeconds: 120.5 }), 'got 120.5'],
    ['TTL missing', loose({ requestTtlSeconds: undefined }), 'got undefined'],
    ['empty name', loose({ name: '' }), 'name must be a non-empty string'],
    ['empty credentialId', loose({ credentialId: '' }), 'credentialId must be a non-empty string'],
    ['requesters listing nobody', loose({ requesters: {} }), 'requesters lists nobody'],
    ['requesters with an empty id', loose({ requesters: { users: [''] } }), 'requesters.users must be an array of non-empty strings'],
  ])('refuses %s', (_name, def, message) => {
    const call = (): void => validatePolicyDefinition(def, credential);
    expect(call).toThrow(PolicyError);
    expect(call).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
    expect(call).toThrow(message);
  });

  it('refuses a group min above approvals.min', () => {
    const facts: CredentialFacts = { threshold: 1, custodianIds: ['u1', 'u2', 'u3'], custodianGroups: { sre: ['u1', 'u2', 'u3'] } };
    expect(() => validatePolicyDefinition(withApprovals({ min: 2, groups: [{ group: 'sre', min: 2 }] }), facts)).not.toThrow();
    expect(() => validatePolicyDefinition(withApprovals({ min: 2, groups: [{ group: 'sre', min: 3 }] }), facts)).toThrow(
      'exceeds approvals.min 2: raise approvals.min instead',
    );
  });

  it('lists every problem at once', () => {
    try {
      validatePolicyDefinition(loose({ name: '', operations: [], requestTtlSeconds: 1 }), credential);
      throw new Error('expected a PolicyError');
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyError);
      expect((error as PolicyError).problems).toHaveLength(3);
    }
  });

  it.each<[string, CredentialFacts]>([
    ['threshold 0', { threshold: 0, custodianIds: ['u1'] }],
    ['threshold above the custodians', { threshold: 3, custodianIds: ['u1', 'u2'] }],
    ['custodianIds not an array', { threshold: 1, custodianIds: 'u1' as unknown as string[] }],
  ])('refuses a malformed credential as misuse: %s', (_name, facts) => {
    expect(() => validatePolicyDefinition(valid, facts)).toThrow(TypeError);
  });
});
