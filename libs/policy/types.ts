export type Role = 'admin' | 'security_lead' | 'operator' | 'requester' | 'auditor';

export type ConstraintValue = string | string[] | boolean;

export interface OperationRule {
  kind: string;
  constraints?: Record<string, ConstraintValue>;
}

export interface ApprovalRule {
  min: number;
  groups?: { group: string; min: number }[];
  allowRequesterApproval?: boolean;
}

export interface RequesterRule {
  roles?: string[];
  users?: string[];
  serviceAccounts?: string[];
}

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

export interface Operation {
  kind: string;
  params: Record<string, unknown>;
}

export interface Vote {
  userId: string;
  decision: 'approve' | 'reject';
  valid: boolean;
  groups: string[];
}

export interface RequestState {
  requesterId: string;
  expiresAt: Date;
  custodianIds: string[];
}

export type Outcome =
  | {
      status: 'pending';
      approvals: number;
      required: number;
      missingGroups: { group: string; needed: number }[];
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
