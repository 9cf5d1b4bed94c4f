import type { Role } from '#libs/contracts';

/** What a validated ID token says about the person, as the gateway stores it. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  /** From `preferred_username`, else `email`; lowercased. Used only when the user is created. */
  username: string;
  displayName: string;
  email: string | null;
  roles: Role[];
  groups: string[];
}

export type ClaimsProblem = 'subject_missing' | 'username_missing' | 'username_invalid';

export class OidcClaimsError extends Error {
  constructor(
    readonly reason: ClaimsProblem,
    message: string,
  ) {
    super(message);
    this.name = 'OidcClaimsError';
  }
}

const USERNAME = /^[a-z0-9][a-z0-9._@-]{1,63}$/;
const GROUP = /^[a-z0-9][a-z0-9._-]{1,63}$/;

/**
 * Reads a validated ID token's claims into the identity the gateway links and
 * refreshes. Enforces: a subject; a username from `preferred_username`, else
 * `email`, that fits the users table (lowercased, 2-64 of a-z 0-9 . _ @ -);
 * roles only through `roleMap` (an unmapped value grants nothing; the roles
 * are sorted and distinct); groups are the claim's values that are valid group
 * names (lowercased), so policies can name them.
 *
 * @example
 * identityFromClaims(claims, { rolesClaim: 'groups', roleMap: new Map([['sre', ['operator']]]) })
 */
export function identityFromClaims(
  claims: Record<string, unknown>,
  mapping: { rolesClaim: string; roleMap: ReadonlyMap<string, readonly Role[]> },
): OidcIdentity {
  const subject = claims.sub;
  const issuer = claims.iss;
  if (typeof subject !== 'string' || subject === '' || typeof issuer !== 'string') throw new OidcClaimsError('subject_missing', 'the ID token names no subject');
  const email = typeof claims.email === 'string' && claims.email !== '' ? claims.email : null;
  const preferred = typeof claims.preferred_username === 'string' && claims.preferred_username !== '' ? claims.preferred_username : null;
  const rawUsername = preferred ?? email;
  if (rawUsername === null) throw new OidcClaimsError('username_missing', 'the ID token carries neither preferred_username nor email');
  const username = rawUsername.trim().toLowerCase();
  if (!USERNAME.test(username)) {
    throw new OidcClaimsError('username_invalid', `"${rawUsername}" cannot be a quorumgate username (2-64 characters of a-z, 0-9, dot, underscore, @ or dash)`);
  }
  const values = claimValues(claims, mapping.rolesClaim);
  const roles = new Set<Role>();
  for (const value of values) for (const role of mapping.roleMap.get(value) ?? []) roles.add(role);
  const groups = new Set(values.map((v) => v.toLowerCase()).filter((v) => GROUP.test(v)));
  const name = typeof claims.name === 'string' && claims.name.trim() !== '' ? claims.name.trim().slice(0, 200) : username;
  return { issuer, subject, username, displayName: name, email, roles: [...roles].sort(), groups: [...groups].sort() };
}

/** The string values at a claim name or dotted path; a single string counts as one value. */
export function claimValues(claims: Record<string, unknown>, path: string): string[] {
  let value: unknown = path in claims ? claims[path] : claims;
  if (!(path in claims)) {
    for (const part of path.split('.')) {
      value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[part] : undefined;
    }
  }
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
