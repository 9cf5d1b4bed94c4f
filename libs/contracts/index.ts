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

/** The algorithms of signing keys the gateway generates itself, born split (§4 `generate: {alg}`). */
export const GENERATED_SIGNING_ALGS = ['ES256', 'EdDSA'] as const;
export type GeneratedSigningAlg = (typeof GENERATED_SIGNING_ALGS)[number];

/** Operation kinds that an executor runs against a system outside the gateway (§6). */
export const EXECUTOR_OPERATION_KINDS = ['sign', 'http', 'kubernetes.exec', 'ssh.exec', 'sql.exec'] as const;
export type ExecutorOperationKind = (typeof EXECUTOR_OPERATION_KINDS)[number];

/** Operation kinds that act on the credential itself, answered by the gateway (§6): no executor. */
export const INTERNAL_OPERATION_KINDS = ['reveal', 'credential.reshare', 'credential.rotate'] as const;
export type InternalOperationKind = (typeof INTERNAL_OPERATION_KINDS)[number];

/** Every operation kind a policy may name and a request may carry. */
export const OPERATION_KINDS = Object.freeze([...EXECUTOR_OPERATION_KINDS, ...INTERNAL_OPERATION_KINDS] as const);
export type OperationKind = (typeof OPERATION_KINDS)[number];

export function isOperationKind(kind: unknown): kind is OperationKind {
  return OPERATION_KINDS.some((k) => k === kind);
}

/** Custody operations (§4a): requests against the credential itself, under its custody policy only. */
export const CUSTODY_OPERATION_KINDS = ['credential.reshare', 'credential.rotate'] as const;
export type CustodyOperationKind = (typeof CUSTODY_OPERATION_KINDS)[number];

export function isCustodyOperationKind(kind: unknown): kind is CustodyOperationKind {
  return CUSTODY_OPERATION_KINDS.some((k) => k === kind);
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
  'user.password_reset',
  'service_account.created',
  'service_account.revoked',
  'keys.enrolled',
  'credential.created',
  'credential.checked_in',
  'credential.check_in_failed',
  'credential.intake_key_created',
  'credential.version_created',
  'policy.created',
  'policy.deleted',
  'policy.updated',
  'policy.disabled',
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
  'notification_channel.created',
  'notification_channel.updated',
  'notification_channel.deleted',
  'user.notifications_changed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
/** The longest text `GET /audit?q=` searches for. */
export const AUDIT_SEARCH_MAX = 200;

/**
 * Every stable `code` a problem+json answer of the gateway may carry (§7): the gateway's
 * errors are typed by it, and the web UI has a sentence for each one (apps/web/src/messages.ts).
 */
export const PROBLEM_CODES = [
  'AUTH_REQUIRED',
  'AUTH_INVALID_CREDENTIALS',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'VALIDATION_FAILED',
  'BODY_MALFORMED',
  'REQUEST_MALFORMED',
  'BODY_NOT_EXPECTED',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'USERNAME_TAKEN',
  'NAME_TAKEN',
  'IN_USE',
  'KEYS_NOT_ENROLLED',
  'REQUESTER_NOT_ALLOWED',
  'NO_MATCHING_POLICY',
  'APPROVER_NOT_ELIGIBLE',
  'APPROVAL_SELF_FORBIDDEN',
  'APPROVAL_DUPLICATE',
  'REQUEST_NOT_PENDING',
  'IDEMPOTENCY_KEY_REUSED',
  'STATEMENT_REJECTED',
  'SHARE_REJECTED',
  'CHECK_IN_REJECTED',
  'POLICY_INVALID',
  'CREDENTIAL_INVALID',
  'TOO_MANY_ATTEMPTS',
  'SSO_FAILED',
  'FRESH_SIGN_IN_REQUIRED',
  'PASSWORD_CHANGE_REQUIRED',
  'PASSWORD_UNCHANGED',
  'INTAKE_KEY_REFUSED',
  'CREDENTIAL_VERSION_CHANGED',
  'POLICY_OUTDATED',
  'SSO_UNAVAILABLE',
  'TOO_MANY_OPEN',
  'BUSY',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export function isProblemCode(code: unknown): code is ProblemCode {
  return PROBLEM_CODES.some((c) => c === code);
}

/**
 * Characters a reviewer cannot see or that reorder what they see: C0/C1 controls other
 * than tab and line feed, zero-width characters, bidirectional overrides and isolates,
 * line/paragraph separators, word joiners and the byte-order mark. The web UI and the
 * CLI show them as visible escapes with a warning; the gateway refuses them in a reason.
 */
export const HIDDEN_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;

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
  /**
   * Present (true) only when the password is one an admin chose: until PUT /me/password
   * every other call but GET /me and logout answers 403 PASSWORD_CHANGE_REQUIRED.
   */
  mustChangePassword?: true;
}

/** GET /auth/methods (public): how the login page offers to sign in. */
export interface AuthMethods {
  /** False when `QG_PASSWORD_LOGIN=off`: only the bootstrap admin signs in with a password. */
  password: boolean;
  /** Single sign-on, when configured: the button reads "Sign in with {name}" and navigates to `loginUrl`. */
  sso: { name: string; loginUrl: string } | null;
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

/**
 * PUT /me/keys: public JWKs only, and the caller's current password (a stolen session cannot re-enrol);
 * a single sign-on user (`Me.signIn: 'sso'`) has none and sends none, and must have signed in within 5 minutes.
 */
export interface EnrolKeysBody {
  encryptionKey: JWK;
  signingKey: JWK;
  currentPassword?: string;
}

/** GET /me, PUT /me/keys (`toMeResponse`, `toServiceAccountMe`). */
export interface Me {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
  groups: string[];
  kind: PrincipalKind;
  /** How this principal proves who it is: a single sign-on user has no password (enrolling keys then needs a fresh sign-in instead). */
  signIn: 'password' | 'sso' | 'token';
  /** True while the password is one an admin chose (a new account, a reset): change it first (PUT /me/password). Never for sso or token. */
  mustChangePassword: boolean;
  keys: EnrolledKeys | null;
}

/** PUT /me/password → 204; every session of the user ends, the calling one too. `newPassword` must differ from the current one (400 PASSWORD_UNCHANGED). */
export interface ChangePasswordBody {
  currentPassword: string;
  newPassword: string;
}

/**
 * PUT /users/:id/password (admin) → 204: sets a password the user must change at their
 * next login, and ends every session of theirs; audited `user.password_reset`. Not for
 * single sign-on users, and not for the admin's own account (use PUT /me/password).
 */
export interface ResetPasswordBody {
  password: string;
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
  /** GET /users: the user has not yet replaced the password an admin chose. */
  mustChangePassword?: boolean;
  /** GET /users: how the user signs in; a single sign-on user has no password here to reset. */
  signIn?: 'password' | 'sso';
  /** GET /users: the thumbprint of the encryption key enrolled now (MAC-checked), what a re-share names as the custodian's `kid`; null when none */
  encryptionThumbprint?: string | null;
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

/**
 * GET /directory: one user or service account, by name, for pickers and for naming ids
 * (admins, security leads, auditors). `name` is a user's display name or an account's
 * name; `username` is a user's login name; `active` false for a disabled user or a
 * revoked account.
 */
export interface DirectoryEntry {
  kind: PrincipalKind;
  id: string;
  name: string;
  username?: string;
  roles: Role[];
  active: boolean;
}

export interface DirectoryPage {
  entries: DirectoryEntry[];
  /** null on the last page; else send it back unchanged as `cursor` */
  nextCursor: string | null;
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
  /** per sharing group (§3a; one group `custodians` for the flat form): valid approvals against its threshold; absent from older gateways */
  sharingProgress?: SharingProgress[];
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

/** One sharing group's progress on a request: approved by `approvers` (user ids), still `missing` these members. */
export interface SharingProgress {
  grp: number;
  name: string;
  threshold: number;
  approved: number;
  approvers: string[];
  missing: string[];
}

/** GET /requests: one page, newest first. */
export interface RequestList {
  requests: RequestDetail[];
  /** send it back as `cursor` for the next page; null on the last page (absent from older gateways) */
  nextCursor?: string | null;
}

export interface NewRequest {
  /** id or name */
  credential: string;
  operation: Operation;
  reason: string;
  ttlSeconds?: number;
}

/** POST /requests/preview: what a submission would be, without the reason; nothing is created. */
export interface NewRequestPreview {
  credential: string;
  operation: Operation;
  ttlSeconds?: number;
}

/**
 * POST /requests/preview: the policy that would admit the request and who would decide it,
 * exactly as a submission with the same body would choose them; nothing is created or audited.
 */
export interface RequestPreview {
  credential: { id: string; name: string; kind: CredentialKind; version: number };
  policy: { id: string; name: string; approvals: ApprovalRule; requestTtlSeconds: number };
  /** the params as the gateway would store them (a `reveal` gets the caller's own key thumbprint as `recipient`) */
  operation: Operation;
  /** the TTL the request would get: the one asked for, at most the policy's */
  ttlSeconds: number;
  /** the credential's sharing groups (§3a) and their custodians; `eligible` false for a custodian the policy keeps from deciding (the requester themself) */
  sharing: { groups: { name: string; threshold: number; custodians: { userId: string; username: string; displayName: string; eligible: boolean }[] }[] };
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
  /** the 0-based sharing group, for grouped credentials only (§3a) */
  group?: number;
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
  /** Σtⱼ over the sharing groups: the least `approvals.min` of its policies (§3a) */
  threshold: number;
  /** `grp` only for grouped credentials */
  custodians: { userId: string; index: number; grp?: number }[];
  /** the sharing groups in `grp` order; the flat form is one group named `custodians` (§3a) */
  sharing: { groups: SharingGroup[] };
  publicInfo: Record<string, unknown>;
  /** signing keys only: the public JWK (also in `publicInfo`); absent from older gateways */
  publicJwk?: JWK;
  /** true when the gateway generated the key itself and nobody ever held the private key; absent from older gateways */
  generated?: boolean;
  /** a custodian who has not checked in for this many days is not live (§4a); absent from older gateways */
  checkInDays?: number;
  /** the policy governing `credential.reshare` and `credential.rotate` (§4a); absent from older gateways */
  custodyPolicyId?: string | null;
  createdAt: string;
}

/** One custodian of a re-share (§4a): who, and the thumbprint of the encryption key their new share is sealed to. */
export interface ReshareCustodian {
  userId: string;
  kid: string;
}

/** `credential.reshare` params (§4a): the flat form or groups, like `sharing` at creation, each custodian named with a `kid`. */
export type ReshareSharing =
  | { threshold: number; custodians: ReshareCustodian[] }
  | { groups: { name: string; threshold: number; custodians: ReshareCustodian[] }[] };

export interface ReshareParams {
  sharing: ReshareSharing;
}

/** `credential.rotate` params (§4a): at least one; never both `secret` and `generate`. */
export interface RotateParams {
  /** JWE compact to a one-time intake key (§3): header `kid`, `cred`, `ver`, `purpose: "rotate"` */
  secret?: string;
  generate?: { alg: GeneratedSigningAlg };
  config?: Record<string, unknown>;
}

/** POST /credentials/:id/intake-keys (§3): a one-time key to seal a rotation's new secret to. */
export interface IntakeKey {
  kid: string;
  publicJwk: JWK;
  expiresAt: string;
}

/** A version's sharing structure as the history shows it. */
export interface VersionStructure {
  groups: { name: string; threshold: number; custodians: { userId: string; kid: string | null }[] }[];
}

/** GET /credentials/:id/versions: the version history, from the audit log, oldest first. */
export interface CredentialVersionEntry {
  version: number;
  at: string;
  /** who created the version: the credential's creator, or the custody request's requester */
  actor: string;
  /** the custody request that made it; null for version 1 */
  requestId: string | null;
  /** `credential.created`, `credential.reshare` or `credential.rotate` */
  change: 'credential.created' | CustodyOperationKind;
  structure: VersionStructure;
  /** SHA-256 of JCS(config) of this version */
  configSha256: string;
  configChanged: boolean;
  secretChanged: boolean;
}

/** One sharing group of a credential (§3a): any `threshold` of its custodians. */
export interface SharingGroup {
  name: string;
  threshold: number;
  custodians: { userId: string; grp: number; index: number }[];
}

/** A sharing group as sent at creation: user ids. */
export interface NewSharingGroup {
  name: string;
  threshold: number;
  custodians: string[];
}

/** POST /credentials: either `custodians` + `threshold` (one group) or `sharing` (§3a). */
export interface NewCredential {
  name: string;
  kind: CredentialKind;
  config: Record<string, unknown>;
  /** exactly one of secret, secretBase64 and (signing-key only) generate */
  secret?: string;
  secretBase64?: string;
  generate?: { alg: GeneratedSigningAlg };
  checkInDays?: number;
  /** user ids */
  custodians?: string[];
  threshold?: number;
  sharing?: { groups: NewSharingGroup[] };
}

/** GET /credentials/:id/share (spec §4a): the caller's own envelope and a one-time challenge sealed to their encryption key. */
export interface CredentialShare {
  envelope: string;
  index: number;
  /** the 0-based group of grouped sharing (§3a); absent for one group */
  group?: number;
  version: number;
  /** JWE to the caller's encryption key, header `cred`, `ver`, `purpose: "check-in"`; plaintext a one-time nonce (32 bytes, b64u), valid 5 minutes */
  challenge: string;
}

/** POST /credentials/:id/check-ins: a check-in statement (§3, `typ: qg-checkin+jwt`). */
export interface CheckInBody {
  statement: string;
}

/** POST /credentials/:id/check-ins → 201. */
export interface CheckInResponse {
  at: string;
}

/** Why a custodian does not count as live (§4a). */
export const LIVENESS_REASONS = ['disabled', 'no_operator_role', 'keys_changed', 'check_in_overdue'] as const;
export type LivenessReason = (typeof LIVENESS_REASONS)[number];

/** GET /credentials/:id/health (§4a): below 1, one more departure loses the credential. */
export interface CredentialHealth {
  credentialId: string;
  version: number;
  /** the least over groups of live − threshold */
  margin: number;
  checkInDays: number;
  groups: {
    name: string;
    threshold: number;
    live: number;
    custodians: {
      userId: string;
      username: string;
      index: number;
      live: boolean;
      reasons: LivenessReason[];
      lastCheckInAt: string | null;
      checkInDueAt: string;
      /** the thumbprint of the key this custodian's share is sealed to (the envelope's `kid`) */
      kid: string;
      /** the thumbprint of the encryption key they have enrolled now (MAC-checked), null when none; differs from `kid` after a re-enrolment (`keys_changed`) */
      enrolledKid: string | null;
    }[];
  }[];
}

/** GET /custody/affected (issue 16 item 8): the credentials with a custodian who is not live, each with its health; the lost-key runbook starts here. */
export interface AffectedCredentials {
  credentials: (CredentialHealth & { name: string })[];
}

// ---- policies (policies.controller.ts `toPolicyResponse`) ----

// The rule shapes: one definition for the policy evaluator and the wire.

/** A glob, a list of globs, a boolean; `{name: glob}` for the `http` constraints `headers`, `query` and `body`. */
export type ConstraintValue = string | string[] | boolean | Record<string, string>;

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
  /** the credential's custody policy (§4a): tightened, never deleted */
  custody?: boolean;
  /** `policy_outdated` when a new credential version made it impossible: submissions get 409 until it is edited */
  disabledReason?: string | null;
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

/** GET /audit: one page in seq order. */
export interface AuditList {
  entries: AuditEntry[];
  /** send it back as `cursor` (instead of `afterSeq`) for the next page; null on the last page (absent from older gateways) */
  nextCursor?: string | null;
}

/** GET /audit's filters (all optional; `order` defaults to asc, oldest first). */
export interface AuditListQuery {
  order?: 'asc' | 'desc';
  /** `user:<id>`, `service_account:<id>` or `system` */
  actor?: string;
  /** an AuditAction or a family such as `request.*` */
  action?: string;
  subject?: string;
  /** RFC 3339; from inclusive, to exclusive */
  from?: string;
  to?: string;
  q?: string;
  limit?: number;
  cursor?: string;
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

// ---- notifications (notifications/channels.controller.ts `toChannelResponse`, me-notifications.controller.ts) ----

export const NOTIFICATION_CHANNEL_KINDS = ['webhook', 'slack', 'email'] as const;
export type NotificationChannelKind = (typeof NOTIFICATION_CHANNEL_KINDS)[number];

/** The events about one request (issue 18 item 5), each with the request's summary and link. */
export const REQUEST_EVENT_TYPES = [
  'request.pending',
  'request.reminder',
  'request.approved',
  'request.succeeded',
  'request.failed',
  'request.rejected',
  'request.expired',
  'request.cancelled',
  'request.revealed',
] as const;
export type RequestEventType = (typeof REQUEST_EVENT_TYPES)[number];

/** Events about a credential's custody (spec §4a): its margin fell below 1, so one more departure loses it. */
export const CUSTODY_EVENT_TYPES = ['credential.margin_low'] as const;
export type CustodyEventType = (typeof CUSTODY_EVENT_TYPES)[number];

/** Every event a channel may subscribe to: the request events, the custody events, and the audit stream for a SIEM (webhooks only). */
export const NOTIFICATION_EVENT_TYPES = [...REQUEST_EVENT_TYPES, ...CUSTODY_EVENT_TYPES, 'audit.entry'] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

/** The `data` of a request event: what a person needs to decide whether to open the request. Never a share, envelope, statement, token or result. */
export interface RequestEventData {
  request: {
    id: string;
    status: RequestStatus;
    credential: { id: string; name: string };
    operation: { kind: OperationKind; summary: string };
    requester: { id: string; name: string };
    reason: string;
    expiresAt: string;
    approvals: { received: number; required: number };
    link: string;
  };
}

/** The `data` of `credential.margin_low`: which credential, its margin, and who no longer counts and why. Never a share, envelope or key. */
export interface MarginLowEventData {
  credential: { id: string; name: string; version: number };
  margin: number;
  notLive: { userId: string; username: string; reasons: LivenessReason[] }[];
  link: string;
}

/** A webhook body (Standard Webhooks): `type`, the event's `id` (also the `webhook-id` header), `timestamp` (RFC 3339) and `data`. */
export interface NotificationEvent<D = RequestEventData | MarginLowEventData | AuditEntry | { message: string }> {
  type: NotificationEventType | 'notification.test';
  id: string;
  timestamp: string;
  data: D;
}

/** A channel as the API shows it: never its signing secret or Slack URL. */
export interface NotificationChannel {
  id: string;
  name: string;
  kind: NotificationChannelKind;
  /** webhook `{url}`, slack `{}` (the URL is sealed), email `{to?}` */
  config: { url?: string; to?: string };
  events: NotificationEventType[];
  /** audit.entry: the seq of the last audit entry delivered */
  auditCursor: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

/** POST /notification-channels: a webhook channel's signing secret, shown once. */
export interface CreatedNotificationChannel extends NotificationChannel {
  signingSecret?: string;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface NotificationDelivery {
  id: string;
  eventId: string;
  type: NotificationEventType | 'notification.test';
  /** the user an email went to, else empty */
  recipient: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** GET|PUT /me/notifications: the user's address and which events reach them by email. */
export interface NotificationPreferences {
  email: string | null;
  events: Record<RequestEventType, boolean>;
}
