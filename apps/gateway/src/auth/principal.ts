import type { JWK } from 'jose';

export const ROLES = ['admin', 'security_lead', 'operator', 'requester', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: a person or an automation's service account. */
export interface Principal {
  kind: 'user' | 'service_account';
  id: string;
  name: string;
  roles: Role[];
  groups: string[];
  /** A user's enrolled signing key, read with the principal: approvals verify against it. */
  signingKey?: JWK | null;
}
