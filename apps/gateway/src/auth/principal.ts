import type { JWK } from 'jose';
import type { Role } from '#libs/contracts';

export { ROLES, type Role } from '#libs/contracts';

/** Who is calling: a person or an automation's service account. */
export interface Principal {
  kind: 'user' | 'service_account';
  id: string;
  name: string;
  roles: Role[];
  groups: string[];
  /** A service account's owner: the person who counts as its requester for the no-self-approval rule. */
  ownerId?: string | null;
  /** A user's enrolled signing key, read with the principal: approvals verify against it. */
  signingKey?: JWK | null;
  /** A user signed in with an access token: when it was issued (unix seconds), i.e. when they signed in. */
  signedInAt?: number;
  /** A user authenticated by access token: the session epoch it was issued under (logout and password changes move it on). */
  sessionEpoch?: number;
  /** A user whose password an admin chose: every route but those marked `AllowedBeforePasswordChange` answers 403 PASSWORD_CHANGE_REQUIRED. */
  mustChangePassword?: boolean;
}
