import { matchesPathGlob } from './glob.js';
import { constraintNotes, matchesOperation } from './match-operation.js';
import { PolicyError } from './policy-error.js';
import type { Operation, OperationRule, PolicyDefinition } from './types.js';
import { validatePolicyDefinition } from './validate-policy.js';

// Issue 15 item 1: an http rule's constraints mean what they say.

const http = (params: Record<string, unknown>): Operation => ({ kind: 'http', params });
const rule = (constraints: OperationRule['constraints']): OperationRule => ({ kind: 'http', ...(constraints === undefined ? {} : { constraints }) });

describe('matchesPathGlob: * is one segment, ** any number', () => {
  it.each<[string, string, boolean]>([
    ['/admin/rotate/*', '/admin/rotate/db', true],
    ['/admin/rotate/*', '/admin/rotate/', true],
    ['/admin/rotate/*', '/admin/rotate/db/primary', false],
    ['/admin/rotate/*', '/admin/rotate', false],
    ['/admin/rotate/*', '/admin/rotate/db/../../users', false],
    ['/admin/*/keys', '/admin/db/keys', true],
    ['/admin/*/keys', '/admin/db/x/keys', false],
    ['/files/*.txt', '/files/a.txt', true],
    ['/files/*.txt', '/files/a/b.txt', false],
    ['/files/?', '/files/a', true],
    ['/files/?', '/files//', false],
    ['/files/**', '/files', true],
    ['/files/**', '/files/', true],
    ['/files/**', '/files/a/b/c.txt', true],
    ['/files/**', '/filesystem', false],
    ['/a/**/z', '/a/z', true],
    ['/a/**/z', '/a/b/c/z', true],
    ['/a/**/z', '/a/b/c/zz', false],
    ['/a/**/b/**/c', '/a/x/b/y/b/c', true],
    ['/a/**/b/**/c', '/a/x/y/c', false],
    ['**', '/anything/at/all', true],
    ['/**', '/', true],
    ['/admin/rotate', '/admin/rotate', true],
    ['/admin/rotate', '/admin/rotate/', false],
    ['/admin/%72otate', '/admin/rotate', false],
  ])('%s against %s → %s', (glob, path, expected) => {
    expect(matchesPathGlob(glob, path)).toBe(expected);
  });

  it('stays fast on globs and paths built to backtrack', () => {
    const path = `/${'a/'.repeat(1000)}b`;
    const glob = `/${'**/a*a*a*a*/'.repeat(30)}c`;
    const started = process.hrtime.bigint();
    expect(matchesPathGlob(glob, path)).toBe(false);
    expect(matchesPathGlob(`/${'*a'.repeat(200)}*/c`, `/${'a'.repeat(2000)}`)).toBe(false);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1500);
  });
});

describe('matchesOperation for http', () => {
  it.each<[string, OperationRule, Operation, boolean]>([
    ['* does not cross a segment', rule({ path: '/admin/rotate/*' }), http({ method: 'POST', path: '/admin/rotate/db/../users' }), false],
    ['path list: any glob', rule({ path: ['/a/*', '/b/**'] }), http({ method: 'GET', path: '/b/c/d' }), true],
    ['the path glob sees the path without its query', rule({ path: '/x', query: { a: '1' } }), http({ method: 'GET', path: '/x?a=1' }), true],
    ['a query under a rule without a query constraint', rule({ path: '/x*' }), http({ method: 'GET', path: '/x?a=1' }), false],
    ['a query under a rule without constraints', rule(undefined), http({ method: 'GET', path: '/x?a=1' }), false],
    ['no query, no constraint', rule(undefined), http({ method: 'GET', path: '/x' }), true],
    ['query: every parameter named', rule({ query: { a: '1', b: '*' } }), http({ method: 'GET', path: '/x?b=zz&a=1' }), true],
    ['query: an unnamed parameter', rule({ query: { a: '1' } }), http({ method: 'GET', path: '/x?a=1&b=2' }), false],
    ['query: a named parameter missing', rule({ query: { a: '1', b: '*' } }), http({ method: 'GET', path: '/x?a=1' }), false],
    ['query: a repeated parameter, each value checked', rule({ query: { a: '1' } }), http({ method: 'GET', path: '/x?a=1&a=2' }), false],
    ['query: decoded before matching', rule({ query: { name: 'a b' } }), http({ method: 'GET', path: '/x?n%61me=a+b' }), true],
    ['query: {} admits no query', rule({ query: {} }), http({ method: 'GET', path: '/x?a=1' }), false],
    ['_method not named', rule({ query: { a: '*' } }), http({ method: 'POST', path: '/x?a=1&_method=DELETE' }), false],
    ['_method named', rule({ query: { _method: 'PUT' } }), http({ method: 'POST', path: '/x?_method=PUT' }), true],
    ['override header without a headers constraint', rule({ path: '/x' }), http({ method: 'POST', path: '/x', headers: { 'X-HTTP-Method-Override': 'DELETE' } }), false],
    ['override header, other spelling', rule(undefined), http({ method: 'POST', path: '/x', headers: { 'x-method-override': 'DELETE' } }), false],
    ['X-HTTP-Method', rule(undefined), http({ method: 'POST', path: '/x', headers: { 'X-Http-Method': 'DELETE' } }), false],
    ['X-Original-URL', rule(undefined), http({ method: 'GET', path: '/x', headers: { 'X-Original-URL': '/admin' } }), false],
    ['override header named by the rule', rule({ headers: { 'x-http-method-override': 'PATCH' } }), http({ method: 'POST', path: '/x', headers: { 'X-HTTP-Method-Override': 'PATCH' } }), true],
    ['other headers free without a headers constraint', rule(undefined), http({ method: 'GET', path: '/x', headers: { Accept: 'text/plain' } }), true],
    ['headers: names case-insensitive', rule({ headers: { 'X-Tenant': 'acme-*' } }), http({ method: 'GET', path: '/x', headers: { 'x-tenant': 'acme-eu' } }), true],
    ['headers: value outside the glob', rule({ headers: { 'X-Tenant': 'acme-*' } }), http({ method: 'GET', path: '/x', headers: { 'X-Tenant': 'evil' } }), false],
    ['headers: an unnamed header', rule({ headers: { 'X-Tenant': '*' } }), http({ method: 'GET', path: '/x', headers: { 'X-Tenant': 'a', Accept: '*/*' } }), false],
    ['headers: a named header missing', rule({ headers: { 'X-Tenant': '*' } }), http({ method: 'GET', path: '/x' }), false],
    ['body: exact fields', rule({ body: { action: 'rotate', target: 'db-*' } }), http({ method: 'POST', path: '/x', body: { target: 'db-1', action: 'rotate' } }), true],
    ['body: a field outside its glob', rule({ body: { action: 'rotate' } }), http({ method: 'POST', path: '/x', body: { action: 'drop' } }), false],
    ['body: an extra field', rule({ body: { action: 'rotate' } }), http({ method: 'POST', path: '/x', body: { action: 'rotate', all: true } }), false],
    ['body: a named field missing', rule({ body: { action: 'rotate', target: '*' } }), http({ method: 'POST', path: '/x', body: { action: 'rotate' } }), false],
    ['body: a nested object never matches a glob', rule({ body: { action: '*' } }), http({ method: 'POST', path: '/x', body: { action: { $ne: 1 } } }), false],
    ['body: a string body never matches', rule({ body: { action: '*' } }), http({ method: 'POST', path: '/x', body: '{"action":"rotate"}' }), false],
    ['body: an array body never matches', rule({ body: { 0: '*' } }), http({ method: 'POST', path: '/x', body: ['rotate'] }), false],
    ['body: no body never matches', rule({ body: {} }), http({ method: 'POST', path: '/x' }), false],
    ['body: scalars as text', rule({ body: { n: '4?', on: 'true' } }), http({ method: 'POST', path: '/x', body: { n: 42, on: true } }), true],
    ['method still checked', rule({ method: 'GET', path: '/x' }), http({ method: 'DELETE', path: '/x' }), false],
  ])('%s', (_name, r, operation, expected) => {
    expect(matchesOperation(r, operation)).toBe(expected);
  });

  it('explains the refusals a policy makes by itself', () => {
    expect(constraintNotes(http({ method: 'GET', path: '/x?a=1' }))).toEqual([expect.stringMatching(/query/)]);
    expect(constraintNotes(http({ method: 'POST', path: '/x', headers: { 'X-HTTP-Method-Override': 'DELETE' } }))).toEqual([expect.stringMatching(/override headers/)]);
    expect(constraintNotes(http({ method: 'GET', path: '/x' }))).toEqual([]);
  });
});

describe('validatePolicyDefinition: http constraint shapes', () => {
  const policy = (constraints: Record<string, unknown>): PolicyDefinition =>
    ({
      id: 'p',
      name: 'api',
      credentialId: 'c',
      operations: [{ kind: 'http', constraints }],
      approvals: { min: 1 },
      requestTtlSeconds: 3600,
    }) as PolicyDefinition;
  const facts = { threshold: 1, custodianIds: ['u1'] };

  it.each<[string, Record<string, unknown>]>([
    ['path, query, headers and body', { path: '/admin/**', query: { page: '[0-9]*' }, headers: { 'X-Tenant': 'acme' }, body: { action: 'rotate' } }],
    ['an empty query (no query at all)', { query: {} }],
    ['a list of path globs', { path: ['/a/*', '/b/**'] }],
  ])('accepts %s', (_name, constraints) => {
    expect(() => validatePolicyDefinition(policy(constraints), facts)).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['headers as a string', { headers: 'X-Tenant: acme' }, /constraints\.headers must be an object/],
    ['body as a glob', { body: '*rotate*' }, /constraints\.body must be an object/],
    ['query as an array', { query: ['a'] }, /constraints\.query must be an object/],
    ['a non-string glob', { body: { action: 1 } }, /constraints\.body\.action must be a glob string/],
    ['a nested object', { body: { action: { x: 'y' } } }, /constraints\.body\.action must be a glob string/],
    ['an invalid header name', { headers: { 'X Tenant': 'a' } }, /invalid name "X Tenant"/],
    ['a header named twice', { headers: { 'X-A': 'a', 'x-a': 'b' } }, /names "x-a" twice/],
    ['an empty query name', { query: { '': 'a' } }, /invalid name ""/],
    ['** inside a path segment', { path: '/files/**.txt' }, /"\*\*" must be a whole path segment/],
    ['a boolean path', { path: true }, /constraints\.path must be a glob string/],
    ['too many names', { headers: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-${i}`, '*'])) }, /more than 50/],
  ])('refuses %s', (_name, constraints, message) => {
    let error: unknown;
    try {
      validatePolicyDefinition(policy(constraints), facts);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).code).toBe('POLICY_INVALID');
    expect((error as PolicyError).message).toMatch(message);
  });

  it('keeps object constraints to http', () => {
    const def = { ...policy({}), operations: [{ kind: 'kubernetes.exec', constraints: { headers: { a: 'b' } } }] } as PolicyDefinition;
    expect(() => validatePolicyDefinition(def, facts)).toThrow(/must be a glob string, an array of glob strings or a boolean/);
  });
});
