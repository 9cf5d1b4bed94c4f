import type { ApprovalRule, OperationRule, RequesterRule } from '../contracts/index.js';

export type { ApprovalRule, ConstraintValue, Operation, OperationRule, RequesterRule, Role } from '../contracts/index.js';

export interface PolicyDefinition {
  id: string;
  name: string;
  credentialId: string;
  operations: OperationRule[];
  approvals: ApprovalRule;
  requesters?: RequesterRule;
  requestTtlSeconds: number;
  /** The operation's time limit; unset: the gateway's default. */
  operationTimeoutSeconds?: number;
}

export interface Principal {
  id: string;
  kind: 'user' | 'service_account';
  roles: string[];
  groups: string[];
}

export interface Vote {
  userId: string;
  decision: 'approve' | 'reject';
  valid: boolean;
  groups: string[];
}

export interface RequestState {
  requesterId: string;
  /** the person behind a requesting service account (its owner): counts as the requester; absent or null for a person's own request */
  requesterOwnerId?: string | null;
  expiresAt: Date;
  custodianIds: string[];
  /**
   * The credential's sharing groups (spec §3a), in `grp` order, for a grouped credential
   * only: without `threshold` valid shares of every group the key cannot be rebuilt, so
   * the request is not approved, whatever its policy says.
   */
  shareGroups?: ShareGroup[];
}

export interface ShareGroup {
  name: string;
  threshold: number;
  members: string[];
}

export type Outcome =
  | {
      status: 'pending';
      approvals: number;
      required: number;
      missingGroups: { group: string; needed: number }[];
      /** only for a grouped credential: the sharing groups still short of their threshold */
      missingShareGroups?: { grp: number; name: string; needed: number }[];
    }
  | { status: 'approved'; approverIds: string[] }
  | { status: 'rejected'; rejectedBy: string }
  | { status: 'expired' };

/** What `validatePolicyDefinition` needs to know about the credential a policy guards. */
export interface CredentialFacts {
  threshold: number;
  custodianIds: string[];
  /** group name → user ids; only members that are also custodians count. */
  custodianGroups?: Record<string, string[]>;
}
