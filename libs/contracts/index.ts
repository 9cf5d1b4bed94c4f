/**
 * The gateway's HTTP API on the wire (PROTOCOL.md §4, §7): one set of request
 * and response types shared by the gateway, the web UI, the CLI and the pure
 * libraries. Types, and the closed lists of the product's concepts (roles,
 * statuses, credential and operation kinds) as `as const` arrays: no other
 * runtime code and only `import type` (jose), so it is safe in the browser
 * bundle and every lib may import it. Each response type follows the gateway
 * mapper that writes it (requests.mapper.ts, users.mapper.ts and the
 * controllers' `to…Response`).
 *
 * Fields marked "absent from older gateways" are sent by the current gateway
 * but stay optional so clients keep reading older ones.
 */
import type { JWK } from 'jose';

export type { JWK };

// ---- the closed lists: each declared once, so that adding a member is a compile error wherever it must be handled ----

export const ROLES = ['admin', 'security_lead', 'operator', 'requester', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const FINAL_REQUEST_STATUSES = ['succeeded', 'failed', 'rejected', 'expired', 'cancelled'] as const;
export type FinalRequestStatus = (typeof FINAL_REQUEST_STATUSES)[number];
export const REQUEST_STATUSES = ['pending', 'approved', 'executing', ...FINAL_REQUEST_STATUSES] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Executor credential kinds (§6). */
export const CREDENTIAL_KINDS = ['signing-key', 'http-token', 'kubeconfig', 'ssh-key', 'postgres'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

/** Operation kinds that an executor runs against a system outside the gateway (§6). */
export const EXECUTOR_OPERATION_KINDS = ['sign', 'http', 'kubernetes.exec', 'ssh.exec', 'sql.exec'] as const;
export type ExecutorOperationKind = (typeof EXECUTOR_OPERATION_KINDS)[number];

/** Operation kinds that act on the credential itself, answered by the gateway (§6): no executor. */
export const INTERNAL_OPERATION_KINDS = ['reveal'] as const;
export type InternalOperationKind = (typeof INTERNAL_OPERATION_KINDS)[number];

/** Every operation kind a policy may name and a request may carry. */
export const OPERATION_KINDS = Object.freeze([...EXECUTOR_OPERATION_KINDS, ...INTERNAL_OPERATION_KINDS] as const);
export type OperationKind = (typeof OPERATION_KINDS)[number];

export function isOperationKind(kind: unknown): kind is OperationKind {
  return OPERATION_KINDS.some((k) => k === kind);
}

export function isInternalOperationKind(kind: unknown): kind is InternalOperationKind {
  return INTERNAL_OPERATION_KINDS.some((k) => k === kind);
}

export function isFinalRequestStatus(status: unknown): status is FinalRequestStatus {
  return FINAL_REQUEST_STATUSES.some((s) => s === status);
}

/** Every action an audit entry may name (§7): a closed list, so no entry is written under a misspelt or made-up action. */
export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'auth.login_failed_unknown',
  'auth.logout',
  'user.created',
  'user.updated',
  'user.password_changed',
  'service_account.created',
  'service_account.revoked',
  'keys.enrolled',
  'credential.created',
  'policy.created',
  'request.submitted',
  'request.approval_recorded',
  'request.rejection_recorded',
  'request.share_rejected',
  'request.reopened',
  'request.approved',
  'request.rejected',
  'request.expired',
  'request.cancelled',
  'request.executing',
  'request.key_destroyed',
  'request.succeeded',
  'request.failed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** For the `default` of an exhaustive switch: a new member of a list above fails the compile there. */
export function assertUnreachable(value: never, what: string): never {
  throw new TypeError(`unhandled ${what}: ${JSON.stringify(value)}`);
}

export type PrincipalKind = 'user' | 'service_account';

export type DecisionKind = 'approve' | 'reject';

// ---- auth, users, service accounts (users.mapper.ts, auth.controller.ts) ----

/**
 * POST /auth/login. With the request header `X-QG-Session: cookie` (the web UI) the
 * session rides in the HttpOnly cookie, `tokenType` is `Cookie` and no token is sent;
 * otherwise `accessToken` is a bearer token and no cookie is set.
 */
export interface LoginResponse {
  accessToken?: string;
  tokenType: string;
  expiresIn: number;
}

export interface LoginBody {
  username: string;
  password: string;
}

/** The enrolled public keys and their thumbprints (`toMeResponse`). */
export interface EnrolledKeys {
  encryptionKey: JWK;
  encryptionThumbprint: string;
  signingKey: JWK;
  signingThumbprint: string;
  enrolledAt: string | null;
}

/** PUT /me/keys: public JWKs only, and the caller's current password (a stolen session cannot re-enrol). */
export interface EnrolKeysBody {
  encryptionKey: JWK;
  signingKey: JWK;
  currentPassword: string;
}

/** GET /me, PUT /me/keys (`toMeResponse`, `toServiceAccountMe`). */
export interface Me {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
  groups: string[];
  kind: PrincipalKind;
  keys: EnrolledKeys | null;
}

/** POST /users, PATCH /users/:id (`toUserResponse`); GET /users adds `keysEnrolled`. */
export interface User {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
  groups: string[];
  /** a disabled user cannot sign in and their tokens are refused */
  disabled: boolean;
  keysEnrolled?: boolean;
}

export interface NewUser {
  username: string;
  password: string;
  displayName: string;
  roles: Role[];
  groups?: string[];
}

/** PATCH /users/:id: at least one field; absent fields stay as they are. */
export interface UserChange {
  roles?: Role[];
  groups?: string[];
  disabled?: boolean;
}

/** GET /service-accounts (`toServiceAccountResponse`); revoked accounts stay listed. */
export interface ServiceAccount {
  id: string;
  name: string;
  roles: Role[];
  /** the user answerable for the account; counts as its requester for the no-self-approval rule */
  ownerId: string | null;
  createdAt: string;
  /** set by DELETE /service-accounts/:id; the account's token is refused from then on */
  revokedAt: string | null;
}

/** POST /service-accounts: the token is shown once; a new account is never revoked. */
export interface CreatedServiceAccount extends ServiceAccount {
  revokedAt: null;
  token: string;
}

export interface NewServiceAccount {
  name: string;
  roles: Role[];
  /** default: the admin creating it */
  ownerId?: string;
}

// ---- requests and approvals (requests.mapper.ts, requests.controller.ts) ----

export interface Operation {
  kind: OperationKind;
  params: Record<string, unknown>;
}

/** The signed content of a request (§5). Clients re-check its shape before trusting it. */
export interface RequestDigestInput {
  id: string;
  credential: { id: string; version: number };
  /** the policy that admitted the request, as at submission (spec §5, revision 2) */
  policy: { id: string; sha256: string };
  operation: Operation;
  requester: string;
  reason: string;
  expiresAt: string;
}

/** One decision on a request (`toApprovalResponse`). */
export interface Approval {
  userId: string;
  /** the approver's username; null when the gateway does not know it, absent from older gateways */
  username?: string | null;
  decision: DecisionKind;
  at: string;
  valid: boolean;
  reason?: string;
  invalidReason?: string;
}

/** GET /requests/:id, GET /requests, /wait, /cancel (`toRequestResponse`). */
export interface RequestDetail {
  id: string;
  status: RequestStatus;
  policyId: string;
  credential: { id: string; version: number };
  operation: Operation;
  /** `name`: the username or service-account name; null when unknown, absent from older gateways */
  requester: { id: string; kind: PrincipalKind; name?: string | null };
  reason: string;
  digest: string;
  digestInput: RequestDigestInput;
  /** derived from the request's private key; null once that key is destroyed (the request ended or its execution rebuilt the credential) */
  requestKey: JWK | null;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  approvalsRequired: number;
  approvalsReceived: number;
  custodians: string[];
  /** user id → username for the custodians and a human requester; absent from older gateways */
  names?: Record<string, string>;
  approvals: Approval[];
  /** only once final */
  finishedAt?: string | null;
  /** only once final: to the requester, the operation's output (§6) or `{error}`; to anyone else only `{error}` when it failed (spec §4 "Results") */
  result?: Record<string, unknown>;
  /** only once final, to anyone but the requester: hex SHA-256 of the JCS of the result */
  resultSha256?: string;
}

/** GET /requests */
export interface RequestList {
  requests: RequestDetail[];
}

export interface NewRequest {
  /** id or name */
  credential: string;
  operation: Operation;
  reason: string;
  ttlSeconds?: number;
}

/** POST /requests (`toSubmittedResponse`). */
export interface SubmittedRequest {
  id: string;
  status: RequestStatus;
  policyId: string;
  digest: string;
  digestInput: RequestDigestInput;
  requestKey: JWK;
  approvals: { required: number; received: number };
  expiresAt: string;
}

/** GET /requests/:id/share: the caller's sealed share. */
export interface ShareEnvelope {
  envelope: string;
  index: number;
  credentialVersion: number;
}

/** POST /requests/:id/approvals (`share` is omitted on reject). */
export interface DecisionBody {
  decision: DecisionKind;
  statement: string;
  share?: string;
  reason?: string;
}

/** POST /requests/:id/approvals: the decision recorded, and where the request stands. */
export interface DecisionResponse extends Approval {
  request: { id: string; status: RequestStatus; approvalsReceived: number; approvalsRequired: number };
}

/** The data of one `request` server-sent event of `GET /events`, as request-events.ts publishes it: a request changed, and the change committed. */
export interface RequestChange {
  id: string;
  status: RequestStatus;
  credentialId: string;
  requesterId: string;
  at: string;
}

// ---- credentials (credentials.controller.ts `toCredentialResponse`) ----

export interface Credential {
  id: string;
  name: string;
  kind: CredentialKind;
  config: Record<string, unknown>;
  version: number;
  threshold: number;
  custodians: { userId: string; index: number }[];
  publicInfo: Record<string, unknown>;
  createdAt: string;
}

export interface NewCredential {
  name: string;
  kind: CredentialKind;
  config: Record<string, unknown>;
  secret?: string;
  secretBase64?: string;
  /** user ids */
  custodians: string[];
  threshold: number;
}

// ---- policies (policies.controller.ts `toPolicyResponse`) ----

// The rule shapes: one definition for the policy evaluator and the wire.

export type ConstraintValue = string | string[] | boolean;

export interface OperationRule {
  kind: OperationKind;
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

export interface Policy {
  id: string;
  name: string;
  credentialId: string;
  operations: OperationRule[];
  approvals: ApprovalRule;
  requesters: RequesterRule | null;
  requestTtlSeconds: number;
  /** null: the gateway's default time limit */
  operationTimeoutSeconds: number | null;
}

export interface NewPolicy {
  name: string;
  credentialId: string;
  operations: OperationRule[];
  approvals: ApprovalRule;
  requesters?: RequesterRule;
  requestTtlSeconds?: number;
  operationTimeoutSeconds?: number;
}

// ---- audit (audit.controller.ts) ----

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** GET /audit/verify */
export interface AuditVerification {
  ok: boolean;
  entries: number;
  headHash: string;
  /** signed checkpoints checked; absent from older gateways */
  checkpoints?: number;
  /** the first entry (or checkpoint seq) that does not verify */
  firstBadSeq?: number;
  /** what failed, e.g. CHAIN_BROKEN, CHECKPOINT_GAP, CHECKPOINT_MISMATCH, CHECKPOINT_RESIGNED; absent from older gateways */
  code?: string;
  reason?: string;
}
