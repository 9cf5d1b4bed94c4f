import { globToRegExp } from './glob.js';
import type { Operation, OperationRule } from './types.js';

/** A constraint array ending with this element admits any further (zero or more) elements. */
export const REST_ELEMENTS = '**';

/**
 * Whether `op` falls under `rule`. Enforces, denying anything else:
 * - the kinds are equal;
 * - every constraint names an own parameter of `op.params`;
 * - a string constraint is a glob over a scalar parameter (string, number, boolean, bigint);
 * - a string[] constraint over an array parameter matches element by element, same length,
 *   except that a trailing `'**'` admits any further elements;
 * - a string[] constraint over a scalar parameter: any of the globs matches, unless the
 *   constraint ends with `'**'` (then it is an argument vector and only an array matches);
 * - a boolean constraint equals the parameter strictly;
 * - a constraint of any other type never matches.
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
  for (const [name, constraint] of Object.entries(rule.constraints ?? {})) {
    if (!Object.hasOwn(params, name)) return false;
    if (!satisfies(constraint, params[name])) return false;
  }
  return true;
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
