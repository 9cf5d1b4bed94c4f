/** The gateway's responses as the CLI reads them (PROTOCOL.md §4, §7). */
import type { JWK } from '#libs/custodian';

export const FINAL_STATUSES = ['succeeded', 'failed', 'rejected', 'expired', 'cancelled'] as const;
export const REQUEST_STATUSES = ['pending', 'approved', 'executing', ...FINAL_STATUSES] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export function isFinal(status: string): boolean {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export interface ApprovalView {
  userId: string;
  /** the approver's username; null when unknown, absent from older gateways */
  username?: string | null;
  decision: 'approve' | 'reject';
  at: string;
  valid: boolean;
  reason?: string;
  invalidReason?: string;
}

export interface RequestView {
  id: string;
  status: RequestStatus;
  policyId: string;
  credential: { id: string; version: number };
  operation: { kind: string; params: Record<string, unknown> };
  /** `name`: the username or service-account name; null when unknown, absent from older gateways */
  requester: { id: string; kind: string; name?: string | null };
  reason: string;
  digest: string;
  digestInput: unknown;
  requestKey: JWK;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  approvalsRequired: number;
  approvalsReceived: number;
  custodians: string[];
  /** user id → username for the custodians and a human requester */
  names?: Record<string, string>;
  approvals: ApprovalView[];
  finishedAt?: string | null;
  result?: unknown;
}

export interface SubmittedRequest {
  id: string;
  status: RequestStatus;
  policyId: string;
  digest: string;
  digestInput: unknown;
  requestKey: JWK;
  approvals: { required: number; received: number };
  expiresAt: string;
}

export interface MeView {
  id: string;
  username: string;
  displayName: string;
  roles: string[];
  groups: string[];
  kind: 'user' | 'service_account';
  keys: { encryptionKey: JWK; encryptionThumbprint: string; signingKey: JWK; signingThumbprint: string; enrolledAt: string | null } | null;
}

export interface CredentialView {
  id: string;
  name: string;
  kind: string;
  version: number;
  threshold: number;
  custodians: { userId: string; index: number }[];
  publicInfo?: unknown;
}

export interface DecisionResponse extends ApprovalView {
  request: { id: string; status: RequestStatus; approvalsReceived: number; approvalsRequired: number };
}

export interface LoginResponse {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
}
