/**
 * The gateway's HTTP API as the web UI uses it (PROTOCOL.md §4, §7). Same
 * origin only: the session rides in the HttpOnly `__Host-qg_session` cookie, so no
 * token ever lives in JavaScript.
 */
import type {
  AffectedCredentials,
  AuthMethods,
  AuditEntry,
  ChangePasswordBody,
  AuditList,
  AuditListQuery,
  CheckInResponse,
  CredentialHealth,
  CredentialVersionEntry,
  CredentialShare,
  DirectoryEntry,
  DirectoryPage,
  AuditVerification,
  CreatedNotificationChannel,
  CreatedServiceAccount,
  Credential,
  DecisionBody,
  DecisionResponse,
  EnrolKeysBody,
  LoginResponse,
  Me,
  NewCredential,
  NewPolicy,
  NewRequest,
  NewRequestPreview,
  NewServiceAccount,
  NewUser,
  NotificationChannel,
  NotificationChannelKind,
  NotificationDelivery,
  NotificationEventType,
  NotificationPreferences,
  Policy,
  PrincipalKind,
  RequestDetail,
  RequestEventType,
  RequestList,
  RequestPreview,
  RequestStatus,
  ResetPasswordBody,
  ServiceAccount,
  ShareEnvelope,
  SubmittedRequest,
  User,
  UserChange,
} from '../../../libs/contracts/index.ts';
import { API_ROUTES, routePath, type ApiRoute } from './api-routes.ts';
import { describeProblem } from './messages.ts';

/** The most requests a list page of the web UI loads, page after page. */
const LIST_REQUESTS_MAX = 1000;

/** The wire types live in libs/contracts, shared with the CLI. */
export type {
  AffectedCredentials,
  Approval,
  AuthMethods,
  AuditEntry,
  AuditListQuery,
  ConstraintValue,
  AuditVerification,
  Credential,
  CredentialHealth,
  CredentialKind,
  CredentialVersionEntry,
  DirectoryEntry,
  EnrolledKeys,
  GeneratedSigningAlg,
  ExecutorOperationKind,
  FinalRequestStatus,
  Me,
  NewCredential,
  NewPolicy,
  NewRequest,
  NotificationChannel,
  NotificationChannelKind,
  NotificationDelivery,
  NotificationEventType,
  NotificationPreferences,
  Operation,
  OperationKind,
  OperationRule,
  Policy,
  PrincipalKind,
  RequestChange,
  RequestPreview,
  RequestStatus,
  Role,
  ServiceAccount,
  ShareEnvelope,
  SharingProgress,
  User,
  UserChange,
} from '../../../libs/contracts/index.ts';
/** A request as `GET /requests/:id` returns it. */
export type QgRequest = RequestDetail;

/** The closed lists, declared once in libs/contracts: a new member fails the compile wherever the UI must handle it. */
export {
  assertUnreachable,
  AUDIT_ACTIONS,
  AUDIT_SEARCH_MAX,
  CREDENTIAL_KINDS,
  EXECUTOR_OPERATION_KINDS,
  FINAL_REQUEST_STATUSES,
  HIDDEN_CHARACTERS,
  GENERATED_SIGNING_ALGS,
  isFinalRequestStatus,
  isOperationKind,
  NOTIFICATION_CHANNEL_KINDS,
  NOTIFICATION_EVENT_TYPES,
  OPERATION_KINDS,
  REQUEST_EVENT_TYPES,
  REQUEST_STATUSES,
  ROLES,
} from '../../../libs/contracts/index.ts';

/** An RFC 9457 problem from the gateway, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly code?: string,
    readonly correlationId?: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

/** Called on every 401 so the app can show the sign-in page. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

async function call<T>(route: ApiRoute, options: { params?: Record<string, string>; query?: URLSearchParams; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
  const path = routePath(route, options.params, options.query);
  const { body } = options;
  let res: Response;
  try {
    res = await fetch(path, {
      method: route.method,
      credentials: 'same-origin',
      headers: { accept: 'application/json, application/problem+json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, 'Network error', 'The gateway did not answer. Check your connection and try again.');
  }
  // 204 No Content (logout, revoking a service account) has an empty body: it parses to undefined.
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const p = (parsed ?? {}) as { title?: string; detail?: string; code?: string; correlationId?: string };
    // A wrong password (signing in, or confirming one before a change) is not a lost session.
    if (res.status === 401 && route !== API_ROUTES.login && p.code !== 'AUTH_INVALID_CREDENTIALS') onUnauthorized();
    throw new ApiError(res.status, p.title ?? res.statusText, p.detail ?? `The gateway answered ${res.status} ${res.statusText}.`, p.code, p.correlationId);
  }
  return parsed as T;
}

const R = API_ROUTES;

export const api = {
  /** The session rides in the HttpOnly cookie only: `X-QG-Session: cookie` keeps the token out of the answer, so no script sees it. */
  login: (username: string, password: string) => call<LoginResponse>(R.login, { body: { username, password }, headers: { 'x-qg-session': 'cookie' } }),
  logout: () => call<void>(R.logout),
  authMethods: () => call<AuthMethods>(R.authMethods),
  me: () => call<Me>(R.me),
  /** Needs the user's current password: a session alone does not change where shares are sealed. */
  enrolKeys: (keys: Omit<EnrolKeysBody, 'currentPassword'>, currentPassword: string | undefined) => call<Me>(R.enrolKeys, { body: { ...keys, currentPassword } }),
  /** Ends every session of the user, this one too: sign in again with the new password. */
  changePassword: (body: ChangePasswordBody) => call<void>(R.changePassword, { body }),

  /** The newest requests first, following the gateway's pages up to LIST_REQUESTS_MAX. */
  listRequests: async (query: { status?: RequestStatus; approvable?: boolean } = {}) => {
    const requests: RequestDetail[] = [];
    let cursor: string | null | undefined;
    do {
      const q = new URLSearchParams();
      if (query.status !== undefined) q.set('status', query.status);
      if (query.approvable === true) q.set('approvable', 'true');
      if (cursor) q.set('cursor', cursor);
      const page = await call<RequestList>(R.listRequests, { query: q });
      requests.push(...page.requests);
      cursor = page.nextCursor;
    } while (cursor && requests.length < LIST_REQUESTS_MAX);
    return requests;
  },
  /** An `Idempotency-Key` per filled-in form: a retried click cannot submit twice. */
  submitRequest: (body: NewRequest, idempotencyKey: string) => call<SubmittedRequest>(R.submitRequest, { body, headers: { 'idempotency-key': idempotencyKey } }),
  /** Which policy a submission would fall under and who decides it; creates nothing. */
  previewRequest: (body: NewRequestPreview) => call<RequestPreview>(R.previewRequest, { body }),
  /** A custody request (spec §4a) from a security lead: `credential.reshare` / `credential.rotate` against the credential itself. */
  submitCustodyRequest: (body: { credential: string; operation: { kind: 'credential.reshare' | 'credential.rotate'; params: Record<string, unknown> }; reason: string }) =>
    call<{ id: string }>(R.submitRequest, { body }),
  getRequest: (id: string) => call<RequestDetail>(R.getRequest, { params: { id } }),
  getShare: (id: string) => call<ShareEnvelope>(R.getShare, { params: { id } }),
  decide: (id: string, body: DecisionBody) => call<DecisionResponse>(R.decide, { params: { id }, body }),
  cancelRequest: (id: string) => call<RequestDetail>(R.cancelRequest, { params: { id } }),

  getCredential: (idOrName: string) => call<Credential>(R.getCredential, { params: { idOrName } }),
  listCredentials: () => call<{ credentials: Credential[] }>(R.listCredentials).then((r) => r.credentials),
  createCredential: (body: NewCredential) => call<Credential>(R.createCredential, { body }),
  getCredentialShare: (id: string) => call<CredentialShare>(R.getCredentialShare, { params: { id } }),
  checkIn: (id: string, statement: string) => call<CheckInResponse>(R.checkIn, { params: { id }, body: { statement } }),
  getCredentialHealth: (id: string) => call<CredentialHealth>(R.getCredentialHealth, { params: { id } }),
  custodyAffected: (userId?: string) =>
    call<AffectedCredentials>(R.custodyAffected, userId === undefined ? {} : { query: new URLSearchParams({ userId }) }).then((r) => r.credentials),
  getPolicy: (id: string) => call<Policy>(R.getPolicy, { params: { id } }),
  listPolicies: () => call<{ policies: Policy[] }>(R.listPolicies).then((r) => r.policies),
  createPolicy: (body: NewPolicy) => call<Policy>(R.createPolicy, { body }),
  deletePolicy: (id: string) => call<void>(R.deletePolicy, { params: { id } }),
  /** Only `approvals.min` changes in place (never below the credential's thresholds); an outdated policy is enabled again. */
  updatePolicyMin: (id: string, min: number) => call<Policy>(R.updatePolicy, { params: { id }, body: { approvals: { min } } }),
  /** One page of the directory: users and service accounts whose name contains `q`. */
  searchDirectory: (query: { q?: string; kind?: PrincipalKind; limit?: number; cursor?: string }) => {
    const qs = new URLSearchParams();
    if (query.q !== undefined && query.q !== '') qs.set('q', query.q);
    if (query.kind !== undefined) qs.set('kind', query.kind);
    if (query.limit !== undefined) qs.set('limit', String(query.limit));
    if (query.cursor !== undefined) qs.set('cursor', query.cursor);
    return call<DirectoryPage>(R.searchDirectory, { query: qs });
  },
  /** The whole directory, page after page up to `max` entries: names for ids. */
  listDirectory: async (max = 5000) => {
    const entries: DirectoryEntry[] = [];
    let cursor: string | null | undefined;
    do {
      const qs = new URLSearchParams({ limit: '200' });
      if (cursor) qs.set('cursor', cursor);
      const page = await call<DirectoryPage>(R.searchDirectory, { query: qs });
      entries.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor && entries.length < max);
    return entries;
  },
  /** The credential's versions, oldest first, from the audit log (spec §4a). */
  listCredentialVersions: (id: string) => call<{ versions: CredentialVersionEntry[] }>(R.listCredentialVersions, { params: { id } }).then((r) => r.versions),

  listUsers: () => call<{ users: User[] }>(R.listUsers).then((r) => r.users),
  createUser: (body: NewUser) => call<User>(R.createUser, { body }),
  updateUser: (id: string, body: UserChange) => call<User>(R.updateUser, { params: { id }, body }),
  resetPassword: (id: string, body: ResetPasswordBody) => call<void>(R.resetPassword, { params: { id }, body }),
  listServiceAccounts: () => call<{ serviceAccounts: ServiceAccount[] }>(R.listServiceAccounts).then((r) => r.serviceAccounts),
  createServiceAccount: (body: NewServiceAccount) => call<CreatedServiceAccount>(R.createServiceAccount, { body }),
  revokeServiceAccount: (id: string) => call<void>(R.revokeServiceAccount, { params: { id } }),

  listChannels: () => call<{ channels: NotificationChannel[] }>(R.listChannels).then((r) => r.channels),
  createChannel: (body: { name: string; kind: NotificationChannelKind; config: Record<string, string>; events: NotificationEventType[] }) =>
    call<CreatedNotificationChannel>(R.createChannel, { body }),
  updateChannel: (id: string, body: { name?: string; config?: Record<string, string>; events?: NotificationEventType[] }) => call<NotificationChannel>(R.updateChannel, { params: { id }, body }),
  deleteChannel: (id: string) => call<void>(R.deleteChannel, { params: { id } }),
  testChannel: (id: string) => call<{ deliveryId: string; eventId: string }>(R.testChannel, { params: { id } }),
  listDeliveries: (id: string) => call<{ deliveries: NotificationDelivery[] }>(R.listDeliveries, { params: { id } }).then((r) => r.deliveries),
  getMyNotifications: () => call<NotificationPreferences>(R.getMyNotifications),
  putMyNotifications: (body: { email?: string | null; events?: Partial<Record<RequestEventType, boolean>> }) => call<NotificationPreferences>(R.putMyNotifications, { body }),

  listAudit: (afterSeq: number, limit = 100) =>
    call<{ entries: AuditEntry[] }>(R.listAudit, { query: new URLSearchParams({ afterSeq: String(afterSeq), limit: String(limit) }) }).then((r) => r.entries),
  /** One page of the audit log with the gateway's filters; empty filters are left out. */
  listAuditPage: (query: AuditListQuery) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
    return call<AuditList>(R.listAudit, { query: q });
  },
  verifyAudit: () => call<AuditVerification>(R.verifyAudit),
};

/** A readable sentence for any error thrown while talking to the gateway (messages.ts); the reference for support is left to the small print. */
export function describeError(error: unknown): string {
  return describeProblem(error);
}
