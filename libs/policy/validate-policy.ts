import { ANY_SEGMENTS } from './glob.js';
import { HTTP_OBJECT_CONSTRAINTS } from './match-operation.js';
import { PolicyError } from './policy-error.js';
import type { CredentialFacts, PolicyDefinition } from './types.js';

export const MIN_REQUEST_TTL_SECONDS = 60;
export const MAX_REQUEST_TTL_SECONDS = 604_800;

const OPERATION_KIND = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;
// RFC 9110 token: what a header field name may be.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MAX_NAMED_FIELDS = 50;

/**
 * Refuses a policy that could never be met or that would match by accident. Enforces:
 * - name and credentialId are non-empty, id is a string;
 * - at least one operation rule; each kind is a dotted lower-case name; each constraint is a
 *   string, an array of strings or a boolean, except the `http` constraints `headers`, `query`
 *   and `body`, which are objects `{name: glob}` (at most 50 names, header names RFC 9110
 *   tokens, none twice ignoring case); an `http` `path` glob uses `**` only as a whole segment;
 * - threshold ≤ approvals.min ≤ number of custodians (fewer approvals could not rebuild the key);
 * - each group rule names a distinct group, with 1 ≤ min ≤ its custodians and min ≤ approvals.min;
 * - allowRequesterApproval, if present, is a boolean;
 * - requesters, if present, lists at least one non-empty role, user or service account id;
 * - requestTtlSeconds is an integer in 60..604800.
 * Every problem found is listed in `PolicyError.problems`; the message joins them.
 *
 * @example
 * validatePolicyDefinition(def, { threshold: 2, custodianIds: ['u1', 'u2', 'u3'] }); // throws PolicyError or returns
 */
export function validatePolicyDefinition(def: PolicyDefinition, credential: CredentialFacts): void {
  const custodians = assertCredentialFacts(credential);
  const problems: string[] = [];
  const report = (problem: string): void => {
    problems.push(problem);
  };

  if (typeof def.id !== 'string') report('id must be a string');
  if (!isNonEmptyString(def.name)) report('name must be a non-empty string');
  if (!isNonEmptyString(def.credentialId)) report('credentialId must be a non-empty string');

  if (!Array.isArray(def.operations) || def.operations.length === 0) {
    report('operations must list at least one operation rule');
  } else {
    def.operations.forEach((rule, i) => checkOperationRule(rule, `operations[${i}]`, report));
  }

  checkApprovals(def, credential.threshold, custodians, credential.custodianGroups ?? {}, report);
  checkRequesters(def, report);

  const ttl = def.requestTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < MIN_REQUEST_TTL_SECONDS || ttl > MAX_REQUEST_TTL_SECONDS) {
    report(`requestTtlSeconds must be an integer in ${MIN_REQUEST_TTL_SECONDS}..${MAX_REQUEST_TTL_SECONDS}, got ${String(ttl)}`);
  }

  if (problems.length > 0) {
    throw new PolicyError('POLICY_INVALID', `invalid policy: ${problems.join('; ')}`, problems);
  }
}

function checkOperationRule(rule: unknown, at: string, report: (problem: string) => void): void {
  if (!isPlainObject(rule)) {
    report(`${at} must be an object`);
    return;
  }
  if (typeof rule.kind !== 'string' || !OPERATION_KIND.test(rule.kind)) {
    report(`${at}.kind must be an operation kind such as 'kubernetes.exec', got ${JSON.stringify(rule.kind)}`);
  }
  if (rule.constraints === undefined) return;
  if (!isPlainObject(rule.constraints)) {
    report(`${at}.constraints must be an object`);
    return;
  }
  for (const [name, value] of Object.entries(rule.constraints)) {
    if (name === '') report(`${at}.constraints has an empty parameter name`);
    if (rule.kind === 'http' && HTTP_OBJECT_CONSTRAINTS.includes(name)) {
      checkGlobObject(value, `${at}.constraints.${name}`, name === 'headers', report);
      continue;
    }
    const ok =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (Array.isArray(value) && value.every((glob) => typeof glob === 'string'));
    if (!ok) {
      report(`${at}.constraints.${name} must be a glob string, an array of glob strings or a boolean`);
    } else if (rule.kind === 'http' && name === 'path') {
      if (typeof value === 'boolean') report(`${at}.constraints.path must be a glob string or an array of glob strings`);
      for (const glob of typeof value === 'string' ? [value] : Array.isArray(value) ? value : []) {
        if (glob.split('/').some((segment) => segment.includes(ANY_SEGMENTS) && segment !== ANY_SEGMENTS)) {
          report(`${at}.constraints.path ${JSON.stringify(glob)}: "**" must be a whole path segment (like /files/**); "*" matches within one segment`);
        }
      }
    }
  }
}

/** `{name: glob}` for the http constraints `headers`, `query` and `body`. */
function checkGlobObject(value: unknown, at: string, headerNames: boolean, report: (problem: string) => void): void {
  if (!isPlainObject(value)) {
    report(`${at} must be an object of {name: glob}`);
    return;
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_NAMED_FIELDS) report(`${at} names more than ${MAX_NAMED_FIELDS} fields`);
  const seen = new Set<string>();
  for (const [name, glob] of entries) {
    if (name === '' || (headerNames && !HEADER_NAME.test(name))) report(`${at} has an invalid name ${JSON.stringify(name)}`);
    const key = headerNames ? name.toLowerCase() : name;
    if (seen.has(key)) report(`${at} names ${JSON.stringify(name)} twice (header names are case-insensitive)`);
    seen.add(key);
    if (typeof glob !== 'string') report(`${at}.${name} must be a glob string`);
  }
}

function checkApprovals(
  def: PolicyDefinition,
  threshold: number,
  custodians: Set<string>,
  custodianGroups: Record<string, string[]>,
  report: (problem: string) => void,
): void {
  const approvals: unknown = def.approvals;
  if (!isPlainObject(approvals)) {
    report('approvals must be an object');
    return;
  }
  const min = approvals.min;
  if (typeof min !== 'number' || !Number.isInteger(min)) {
    report(`approvals.min must be an integer, got ${String(min)}`);
  } else if (min < threshold) {
    report(`approvals.min ${min} is below the credential threshold ${threshold}: that many shares cannot rebuild the key`);
  } else if (min > custodians.size) {
    report(`approvals.min ${min} exceeds the credential's ${custodians.size} custodians`);
  }
  if (approvals.allowRequesterApproval !== undefined && typeof approvals.allowRequesterApproval !== 'boolean') {
    report('approvals.allowRequesterApproval must be a boolean');
  }
  if (approvals.groups === undefined) return;
  if (!Array.isArray(approvals.groups)) {
    report('approvals.groups must be an array');
    return;
  }
  const seen = new Set<string>();
  approvals.groups.forEach((rule: unknown, i) => {
    const at = `approvals.groups[${i}]`;
    if (!isPlainObject(rule) || !isNonEmptyString(rule.group)) {
      report(`${at}.group must be a non-empty string`);
      return;
    }
    const { group, min: groupMin } = rule;
    if (seen.has(group)) report(`${at}: group ${group} appears twice`);
    seen.add(group);
    const listed: unknown = Object.hasOwn(custodianGroups, group) ? custodianGroups[group] : [];
    const members = new Set(Array.isArray(listed) ? listed.filter((id: unknown) => typeof id === 'string' && custodians.has(id)) : []);
    if (typeof groupMin !== 'number' || !Number.isInteger(groupMin) || groupMin < 1) {
      report(`${at}.min must be an integer ≥ 1, got ${String(groupMin)}`);
    } else if (groupMin > members.size) {
      report(`${at}.min ${groupMin} exceeds the ${members.size} custodians in group ${group}`);
    } else if (typeof min === 'number' && groupMin > min) {
      report(`${at}.min ${groupMin} exceeds approvals.min ${min}: raise approvals.min instead`);
    }
  });
}

function checkRequesters(def: PolicyDefinition, report: (problem: string) => void): void {
  const requesters: unknown = def.requesters;
  if (requesters === undefined) return;
  if (!isPlainObject(requesters)) {
    report('requesters must be an object');
    return;
  }
  let listed = 0;
  for (const key of ['roles', 'users', 'serviceAccounts'] as const) {
    const ids = requesters[key];
    if (ids === undefined) continue;
    if (!Array.isArray(ids) || !ids.every(isNonEmptyString)) {
      report(`requesters.${key} must be an array of non-empty strings`);
      continue;
    }
    listed += ids.length;
  }
  if (listed === 0) {
    report("requesters lists nobody: list a role, user or service account, or omit it to admit the role 'requester'");
  }
}

function assertCredentialFacts(credential: CredentialFacts): Set<string> {
  const { threshold, custodianIds, custodianGroups } = credential;
  if (!Array.isArray(custodianIds) || !custodianIds.every(isNonEmptyString)) {
    throw new TypeError('validatePolicyDefinition: credential.custodianIds must be an array of ids');
  }
  const custodians = new Set(custodianIds);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > custodians.size) {
    throw new TypeError('validatePolicyDefinition: credential.threshold must be an integer in 1..custodians');
  }
  if (custodianGroups !== undefined && !isPlainObject(custodianGroups)) {
    throw new TypeError('validatePolicyDefinition: credential.custodianGroups must be an object');
  }
  return custodians;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
