import { ExecutorError, executorFor, executorsForCredential, OPERATION_KINDS } from './index.js';

describe('executor registry', () => {
  it('lists the operation kinds a policy may name', () => {
    expect(OPERATION_KINDS).toEqual(['sign', 'http', 'kubernetes.exec', 'ssh.exec', 'sql.exec', 'reveal', 'credential.reshare', 'credential.rotate']);
    expect(Object.isFrozen(OPERATION_KINDS)).toBe(true);
  });

  it.each([
    ['sign', ['signing-key']],
    ['http', ['http-token']],
    ['kubernetes.exec', ['kubeconfig']],
    ['ssh.exec', ['ssh-key']],
    ['sql.exec', ['postgres']],
  ])('%s works with %j', (kind, credentialKinds) => {
    const executor = executorFor(kind);
    expect(executor.kind).toBe(kind);
    expect(executor.credentialKinds).toEqual(credentialKinds);
  });

  it.each(['reveal', 'kubectl', 'ssh', 'sql', 'SIGN', 'Kubernetes.Exec', '', '__proto__', 'toString'])('refuses %j with KIND_UNSUPPORTED', (kind) => {
    expect(() => executorFor(kind)).toThrow(ExecutorError);
    expect(() => executorFor(kind)).toThrow(expect.objectContaining({ code: 'KIND_UNSUPPORTED' }));
  });

  it('finds the executors of a credential kind', () => {
    expect(executorsForCredential('signing-key').map((e) => e.kind)).toEqual(['sign']);
    expect(executorsForCredential('http-token').map((e) => e.kind)).toEqual(['http']);
    expect(executorsForCredential('kubeconfig').map((e) => e.kind)).toEqual(['kubernetes.exec']);
    expect(executorsForCredential('ssh-key').map((e) => e.kind)).toEqual(['ssh.exec']);
    expect(executorsForCredential('postgres').map((e) => e.kind)).toEqual(['sql.exec']);
    expect(executorsForCredential('password')).toEqual([]);
  });
});
