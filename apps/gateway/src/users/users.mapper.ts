import type { Principal } from '../auth/principal.js';
import type { ServiceAccountRow, UserRow } from './accounts.repository.js';

/** Each mapper lists the fields it sends: a new column never leaks by default. */
export function toUserResponse(user: UserRow) {
  return { id: user.id, username: user.username, displayName: user.displayName, roles: user.roles, groups: user.groups, disabled: user.disabledAt !== null };
}

export function toMeResponse(user: UserRow) {
  const keys =
    user.encryptionKey !== null && user.signingKey !== null
      ? {
          encryptionKey: user.encryptionKey,
          encryptionThumbprint: user.encryptionKid,
          signingKey: user.signingKey,
          signingThumbprint: user.signingKid,
          enrolledAt: user.keysEnrolledAt?.toISOString() ?? null,
        }
      : null;
  return {
    ...toUserResponse(user),
    kind: 'user' as const,
    signIn: user.passwordHash === null ? ('sso' as const) : ('password' as const),
    mustChangePassword: user.mustChangePassword,
    keys,
  };
}

export function toServiceAccountMe(principal: Principal) {
  return { id: principal.id, username: principal.name, displayName: principal.name, roles: principal.roles, groups: principal.groups, kind: 'service_account' as const, signIn: 'token' as const, mustChangePassword: false, keys: null };
}

export function toServiceAccountResponse(account: ServiceAccountRow) {
  return { id: account.id, name: account.name, roles: account.roles, ownerId: account.ownerId, createdAt: account.createdAt.toISOString(), revokedAt: account.revokedAt?.toISOString() ?? null };
}
