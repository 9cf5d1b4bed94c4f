import { parseRoleMap } from '../config/config.js';
import { claimValues, identityFromClaims, OidcClaimsError } from './oidc-claims.js';

describe('identityFromClaims', () => {
  const mapping = { rolesClaim: 'groups', roleMap: parseRoleMap('qg-admins=admin,sre=operator,sre=requester') };
  const base = { iss: 'https://idp.example', sub: 'abc-123' };

  it('takes preferred_username, lowercased, and maps only the claim values named in the role map', () => {
    expect(identityFromClaims({ ...base, preferred_username: 'Alice', email: 'alice@example.com', name: 'Alice A', groups: ['sre', 'Other-Team', '/weird path'] }, mapping)).toEqual({
      issuer: 'https://idp.example',
      subject: 'abc-123',
      username: 'alice',
      displayName: 'Alice A',
      email: 'alice@example.com',
      roles: ['operator', 'requester'],
      groups: ['other-team', 'sre'],
    });
  });

  it('falls back to email for the username and to the username for the display name', () => {
    expect(identityFromClaims({ ...base, email: 'Bob@Example.com' }, mapping)).toMatchObject({ username: 'bob@example.com', displayName: 'bob@example.com', roles: [], groups: [] });
  });

  it('reads a single string and a dotted path (Keycloak realm_access.roles)', () => {
    expect(claimValues({ groups: 'sre' }, 'groups')).toEqual(['sre']);
    expect(claimValues({ realm_access: { roles: ['qg-admins', 7] } }, 'realm_access.roles')).toEqual(['qg-admins']);
    expect(claimValues({ 'https://example.com/roles': ['x'] }, 'https://example.com/roles')).toEqual(['x']);
    expect(claimValues({}, 'groups')).toEqual([]);
  });

  it.each([
    [{ iss: 'https://idp.example', preferred_username: 'x1' }, 'subject_missing'],
    [{ ...base }, 'username_missing'],
    [{ ...base, preferred_username: 'has space' }, 'username_invalid'],
    [{ ...base, preferred_username: 'x'.repeat(65) }, 'username_invalid'],
  ])('refuses %j with %s', (claims, reason) => {
    expect(() => identityFromClaims(claims, mapping)).toThrow(OidcClaimsError);
    try {
      identityFromClaims(claims, mapping);
    } catch (error) {
      expect((error as OidcClaimsError).reason).toBe(reason);
    }
  });
});
