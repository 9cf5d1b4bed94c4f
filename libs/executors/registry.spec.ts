import { ExecutorError, executorFor, executorsForCredential, OPERATION_KINDS } from './index.js';

describe('executor registry', () => {
  it('lists the operation kinds a policy may name', () => {
    expect(OPERATION_KINDS).toEqual(['sign', 'http', 'reveal']);
    expect(Object.isFrozen(OPERATION_KINDS)).toBe(true);
  });

  it.each([
    ['sign', ['signing-key']],
    ['http', ['http-token']],
  ])('%s works with %j', (kind, credentialKinds) => {
    const executor = executorFor(kind);
    expect(executor.kind).toBe(kind);
    expect(executor.credentialKinds).toEqual(credentialKinds);
  });

  it.each(['reveal', 'kubernetes.exec', 'ssh.exec', 'sql.exec', 'SIGN', '', '__proto__', 'toString'])('refuses %j with KIND_UNSUPPORTED', (kind) => {
    expect(() => executorFor(kind)).toThrow(ExecutorError);
    expect(() => executorFor(kind)).toThrow(expect.objectContaining({ code: 'KIND_UNSUPPORTED' }));
  });

  it('finds the executors of a credential kind', () => {
    expect(executorsForCredential('signing-key').map((e) => e.kind)).toEqual(['sign']);
    expect(executorsForCredential('http-token').map((e) => e.kind)).toEqual(['http']);
    expect(executorsForCredential('kubeconfig')).toEqual([]);
  });
});
