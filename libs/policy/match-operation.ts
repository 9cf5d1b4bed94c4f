import { globToRegExp, matchesPathGlob } from './glob.js';
import type { Operation, OperationRule } from './types.js';

/** A constraint array ending with this element admits any further (zero or more) elements. */
export const REST_ELEMENTS = '**';

/**
 * Headers that make many servers and proxies treat a request as another method or
 * another path than the one the policy saw: an `http` rule admits them only when its
 * `headers` constraint names them.
 */
export const OVERRIDE_HEADERS: readonly string[] = ['x-http-method-override', 'x-http-method', 'x-method-override', 'x-original-url', 'x-rewrite-url'];

/** What a shell would read as more than one plain word: refused in a constrained `ssh.exec` command string. */
export const SHELL_METACHARACTERS = /[;&|$`<>(){}[\]*?!~#'"\\\n\r]/u;

/** The `http` constraints whose value is an object `{name: glob}` (and only those). */
export const HTTP_OBJECT_CONSTRAINTS: readonly string[] = ['headers', 'query', 'body'];

/**
 * Whether `op` falls under `rule`. Enforces, denying anything else:
 * - the kinds are equal;
 * - every constraint names an own parameter of `op.params` (the `http` constraint `query`
 *   names the query part of `params.path`);
 * - a string constraint is a glob over a scalar parameter (string, number, boolean, bigint);
 * - a string[] constraint over an array parameter matches element by element, same length,
 *   except that a trailing `'**'` admits any further elements;
 * - a string[] constraint over a scalar parameter: any of the globs matches, unless the
 *   constraint ends with `'**'` (then it is an argument vector and only an array matches);
 * - a boolean constraint equals the parameter strictly;
 * - a constraint of any other type never matches.
 * For `http` (see `matchesHttp`): `path` globs are segment-aware and see the path without its
 * query; a query, `headers`, `body` are matched as `{name: glob}` objects; a query or an
 * override header is admitted only when the rule names it.
 * For `ssh.exec`: a string `command` constraint admits only a command string without shell
 * metacharacters, an array constraint only an argv array.
 *
 * @example
 * matchesOperation(
 *   { kind: 'kubernetes.exec', constraints: { namespace: 'prod-*', command: ['kubectl', 'get', '**'] } },
 *   { kind: 'kubernetes.exec', params: { namespace: 'prod-eu', pod: 'api-0', command: ['kubectl', 'get', 'pods'] } },
 * ); // true
 */
export function matchesOperation(rule: OperationRule, op: Operation): boolean {
  if (rule.kind !== op.kind) return false;
  const params = op.params;
  if (typeof params !== 'object' || params === null) return false;
  const constraints: Record<string, unknown> = rule.constraints ?? {};
  if (op.kind === 'http') return matchesHttp(constraints, params);
  for (const [name, constraint] of Object.entries(constraints)) {
    if (!Object.hasOwn(params, name)) return false;
    if (op.kind === 'ssh.exec' && name === 'command') {
      if (!satisfiesShellCommand(constraint, params[name])) return false;
    } else if (!satisfies(constraint, params[name])) return false;
  }
  return true;
}

/**
 * An `http` operation under an `http` rule's constraints. Enforces:
 * - `path` (a glob or a list of globs, any of which may match) is matched by
 *   `matchesPathGlob` against `params.path` without its query: `*` stays within a segment;
 * - a query (`?…` in `params.path`) only under a `query` constraint, which lists exactly the
 *   parameters sent: every parameter (form-decoded name, case-sensitive) is named, every
 *   named one is sent, and each value sent for it matches its glob;
 * - `headers` lists exactly the headers sent (names case-insensitive), each value matching;
 * - without a `headers` constraint, no override header (`OVERRIDE_HEADERS`);
 * - `body` lists exactly the top-level fields of a JSON object body, each a scalar matching
 *   its glob; a string, array or missing body never matches;
 * - any other constraint (`method`, …) as for every kind.
 */
function matchesHttp(constraints: Record<string, unknown>, params: Record<string, unknown>): boolean {
  const target = params['path'];
  if (typeof target !== 'string') return false;
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? undefined : target.slice(queryAt + 1);
  if (!Object.hasOwn(constraints, 'query') && query !== undefined) return false;
  if (!Object.hasOwn(constraints, 'headers') && namesOverrideHeader(params['headers'])) return false;
  for (const [name, constraint] of Object.entries(constraints)) {
    switch (name) {
      case 'path':
        if (!matchesAnyPathGlob(constraint, path)) return false;
        break;
      case 'query':
        if (!matchesQuery(constraint, query ?? '')) return false;
        break;
      case 'headers':
        if (!matchesFields(constraint, params['headers'] ?? {}, true)) return false;
        break;
      case 'body':
        if (!matchesFields(constraint, params['body'], false)) return false;
        break;
      default:
        if (!Object.hasOwn(params, name) || !satisfies(constraint, params[name])) return false;
    }
  }
  return true;
}

function matchesAnyPathGlob(constraint: unknown, path: string): boolean {
  const globs = typeof constraint === 'string' ? [constraint] : constraint;
  if (!Array.isArray(globs) || globs.length === 0) return false;
  return globs.every((g) => typeof g === 'string') && (globs as string[]).some((glob) => matchesPathGlob(glob, path));
}

function namesOverrideHeader(headers: unknown): boolean {
  if (!isPlainObject(headers)) return false;
  return Object.keys(headers).some((name) => OVERRIDE_HEADERS.includes(name.toLowerCase()));
}

function matchesQuery(constraint: unknown, query: string): boolean {
  if (!isGlobObject(constraint)) return false;
  const sent = new URLSearchParams(query);
  const names = new Set(sent.keys());
  const named = Object.keys(constraint);
  if (named.length !== names.size || !named.every((name) => names.has(name))) return false;
  return named.every((name) => sent.getAll(name).every((value) => globToRegExp(constraint[name] as string).test(value)));
}

/** Exactly the named fields, each matching; header names compared case-insensitively. */
function matchesFields(constraint: unknown, value: unknown, caseInsensitive: boolean): boolean {
  if (!isGlobObject(constraint) || !isPlainObject(value)) return false;
  const key = (name: string) => (caseInsensitive ? name.toLowerCase() : name);
  const globs = new Map(Object.entries(constraint).map(([name, glob]) => [key(name), glob as string]));
  const sent = Object.entries(value);
  if (sent.length !== globs.size) return false;
  return sent.every(([name, fieldValue]) => {
    const glob = globs.get(key(name));
    return glob !== undefined && matchesScalar(glob, fieldValue);
  });
}

/**
 * `ssh.exec` `command`: a string constraint is a glob over a command string that has no shell
 * metacharacter (else the glob would bless `allowed; anything`); an array constraint is an
 * argument vector and matches only an argv array, never a string.
 */
function satisfiesShellCommand(constraint: unknown, command: unknown): boolean {
  if (typeof constraint === 'string') return typeof command === 'string' && !SHELL_METACHARACTERS.test(command) && matchesScalar(constraint, command);
  if (Array.isArray(constraint)) return Array.isArray(command) && satisfies(constraint, command);
  return false;
}

function satisfies(constraint: unknown, param: unknown): boolean {
  if (typeof constraint === 'boolean') return param === constraint;
  if (typeof constraint === 'string') return matchesScalar(constraint, param);
  if (Array.isArray(constraint) && constraint.every((g) => typeof g === 'string')) {
    const globs = constraint as string[];
    if (Array.isArray(param)) return matchesElementwise(globs, param);
    // A trailing '**' says "argument vector": as a scalar glob it would admit any value.
    if (globs[globs.length - 1] === REST_ELEMENTS) return false;
    return globs.some((glob) => matchesScalar(glob, param));
  }
  return false;
}

function matchesElementwise(globs: string[], values: unknown[]): boolean {
  const open = globs.length > 0 && globs[globs.length - 1] === REST_ELEMENTS;
  const fixed = open ? globs.slice(0, -1) : globs;
  if (open ? values.length < fixed.length : values.length !== fixed.length) return false;
  return fixed.every((glob, i) => matchesScalar(glob, values[i]));
}

// Objects, arrays, null and undefined never match a glob: String() would turn them into text
// ("[object Object]", "a,b") that a broad pattern could accept by accident.
function matchesScalar(glob: string, value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return globToRegExp(glob).test(String(value));
    case 'object':
    case 'undefined':
    case 'function':
    case 'symbol':
      return false;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isGlobObject(value: unknown): value is Record<string, string> {
  return isPlainObject(value) && Object.values(value).every((glob) => typeof glob === 'string');
}

/**
 * Why no rule may admit `op` whatever its other parameters: the refusals a policy makes
 * by itself, for the 403 answer (each a sentence). Empty when none applies.
 *
 * @example
 * constraintNotes({ kind: 'http', params: { method: 'GET', path: '/x?a=1' } });
 * // ['a query is admitted only by an http rule whose `query` constraint names every parameter']
 */
export function constraintNotes(op: Operation): string[] {
  const notes: string[] = [];
  const params = op.params;
  if (typeof params !== 'object' || params === null) return notes;
  if (op.kind === 'http') {
    const path = params['path'];
    if (typeof path === 'string' && path.includes('?')) {
      notes.push('a query is admitted only by an http rule whose `query` constraint names every parameter');
    }
    if (namesOverrideHeader(params['headers'])) {
      notes.push(`the method and path override headers (${OVERRIDE_HEADERS.join(', ')}) are admitted only by an http rule whose \`headers\` constraint names them`);
    }
  }
  if (op.kind === 'ssh.exec' && typeof params['command'] === 'string' && SHELL_METACHARACTERS.test(params['command'])) {
    notes.push('a rule that constrains `command` never admits a command string with shell metacharacters (;&|$`<>(){}[]*?!~#\'"\\ or a line break): send `command` as an argv array, which the gateway quotes');
  }
  return notes;
}
