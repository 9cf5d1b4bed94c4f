import { matchesOperation } from './match-operation.js';
import type { Operation, OperationRule } from './types.js';

const kube: OperationRule = {
  kind: 'kubernetes.exec',
  constraints: { namespace: 'prod-*', command: ['kubectl', 'get', '**'] },
};
const http: OperationRule = { kind: 'http', constraints: { method: 'POST', path: '/admin/rotate/*' } };
const sqlReadOnly: OperationRule = { kind: 'sql.exec', constraints: { readOnly: true } };
const shellExact: OperationRule = { kind: 'kubernetes.exec', constraints: { command: ['sh', '-c', 'echo ?'] } };
const methods: OperationRule = { kind: 'http', constraints: { method: ['GET', 'HEAD'] } };
const anySign: OperationRule = { kind: 'sign' };

// Matching is the same for every kind: 'x' stands for any, cast past the closed list.
const op = (kind: string, params: Record<string, unknown>): Operation => ({ kind, params }) as Operation;
const anyKind = 'x' as OperationRule['kind'];

describe('matchesOperation', () => {
  it.each<[string, OperationRule, Operation, boolean]>([
    ['kind differs', anySign, op('http', {}), false],
    ['no constraints: kind alone', anySign, op('sign', { payload: 'AA', format: 'raw' }), true],
    ['namespace glob and command prefix', kube, op('kubernetes.exec', { namespace: 'prod-eu', command: ['kubectl', 'get', 'pods'] }), true],
    ['trailing ** admits no further element', kube, op('kubernetes.exec', { namespace: 'prod-eu', command: ['kubectl', 'get'] }), true],
    ['trailing ** admits many further elements', kube, op('kubernetes.exec', { namespace: 'prod-eu', command: ['kubectl', 'get', 'pods', '-n', 'x'] }), true],
    ['command prefix differs', kube, op('kubernetes.exec', { namespace: 'prod-eu', command: ['kubectl', 'delete', 'pods'] }), false],
    ['command shorter than the fixed prefix', kube, op('kubernetes.exec', { namespace: 'prod-eu', command: ['kubectl'] }), false],
    ['namespace outside the glob', kube, op('kubernetes.exec', { namespace: 'staging', command: ['kubectl', 'get'] }), false],
    ['namespace missing', kube, op('kubernetes.exec', { command: ['kubectl', 'get'] }), false],
    ['command missing', kube, op('kubernetes.exec', { namespace: 'prod-eu' }), false],
    ['command as a string under a ** vector', kube, op('kubernetes.exec', { namespace: 'prod-eu', command: 'rm -rf /' }), false],
    ['command as a string equal to the first element', kube, op('kubernetes.exec', { namespace: 'prod-eu', command: 'kubectl' }), false],
    ['string param against a fixed glob list', shellExact, op('kubernetes.exec', { command: 'echo 1' }), true],
    ['string param against a fixed glob list, no match', shellExact, op('kubernetes.exec', { command: 'reboot' }), false],
    ['empty array constraint admits only an empty array', { kind: anyKind, constraints: { a: [] } }, op('x', { a: [] }), true],
    ['empty array constraint admits no scalar', { kind: anyKind, constraints: { a: [] } }, op('x', { a: '' }), false],
    ['a lone ** admits any array', { kind: anyKind, constraints: { a: ['**'] } }, op('x', { a: ['p', 'q'] }), true],
    ['exact array: same length', shellExact, op('kubernetes.exec', { command: ['sh', '-c', 'echo 1'] }), true],
    ['exact array: one element more', shellExact, op('kubernetes.exec', { command: ['sh', '-c', 'echo 1', ';reboot'] }), false],
    ['exact array: one element less', shellExact, op('kubernetes.exec', { command: ['sh', '-c'] }), false],
    ['array element that is an object', shellExact, op('kubernetes.exec', { command: ['sh', '-c', { toString: () => 'echo 1' }] }), false],
    ['method and path', http, op('http', { method: 'POST', path: '/admin/rotate/db' }), true],
    ['method differs', http, op('http', { method: 'DELETE', path: '/admin/rotate/db' }), false],
    ['path outside the glob', http, op('http', { method: 'POST', path: '/admin/users' }), false],
    ['path as an object is not stringified', { kind: 'http', constraints: { path: '*' } }, op('http', { path: { a: 1 } }), false],
    ['path null', { kind: 'http', constraints: { path: '*' } }, op('http', { path: null }), false],
    ['number param against a glob', { kind: anyKind, constraints: { port: '44?' } }, op('x', { port: 443 }), true],
    ['any of several globs', methods, op('http', { method: 'HEAD', path: '/' }), true],
    ['none of several globs', methods, op('http', { method: 'POST', path: '/' }), false],
    ['readOnly true', sqlReadOnly, op('sql.exec', { sql: 'select 1', readOnly: true }), true],
    ['readOnly false', sqlReadOnly, op('sql.exec', { sql: 'drop table x', readOnly: false }), false],
    ['readOnly "true" (string)', sqlReadOnly, op('sql.exec', { sql: 'drop table x', readOnly: 'true' }), false],
    ['readOnly missing', sqlReadOnly, op('sql.exec', { sql: 'drop table x' }), false],
    ['inherited param is not a param', { kind: 'http', constraints: { constructor: '*' } }, op('http', {}), false],
    ['unknown constraint type (number)', { kind: 'http', constraints: { port: 443 as unknown as string } }, op('http', { port: 443 }), false],
    ['unknown constraint type (null)', { kind: 'http', constraints: { port: null as unknown as string } }, op('http', { port: null }), false],
    ['array constraint with a non-string', { kind: 'http', constraints: { m: ['GET', 1] as unknown as string[] } }, op('http', { m: 'GET' }), false],
  ])('%s', (_name, rule, operation, expected) => {
    expect(matchesOperation(rule, operation)).toBe(expected);
  });
});
