/**
 * The gateway's HTTP API as the web UI uses it (PROTOCOL.md §4, §7). Same
 * origin only: the session rides in the HttpOnly `qg_session` cookie, so no
 * token ever lives in JavaScript.
 */
import type { JWK } from '../../../libs/custodian/index.ts';
import { API_ROUTES, routePath, type ApiRoute } from './api-routes.ts';

export const ROLES = ['admin', 'security_lead', 'operator', 'requester', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const REQUEST_STATUSES = ['pending', 'approved', 'executing', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const FINAL_STATUSES: readonly RequestStatus[] = ['succeeded', 'failed', 'rejected', 'expired', 'cancelled'];

export const CREDENTIAL_KINDS = ['signing-key', 'http-token', 'kubeconfig', 'ssh-key', 'postgres'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export interface EnrolledKeys {
  encryptionKey: JWK;
  encryptionThumbprint: string;
  signingKey: JWK;
  signingThumbprint: string;
  enrolledAt: string | null;
}

export interface Me {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
  groups: string[];
  kind: 'user' | 'service_account';
  keys: EnrolledKeys | null;
}

export interface User {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
  groups: string[];
  keysEnrolled?: boolean;
}

export interface ServiceAccount {
  id: string;
  name: string;
  roles: Role[];
  createdAt: string;
}

export interface Operation {
  kind: string;
  params: Record<string, unknown>;
}

export interface DigestInputShape {
  id: string;
  credential: { id: string; version: number };
  operation: Operation;
  requester: string;
  reason: string;
  expiresAt: string;
}

export interface Approval {
  userId: string;
  /** the approver's username (null when the gateway does not know it; absent from older gateways) */
  username?: string | null;
  decision: 'approve' | 'reject';
  at: string;
  valid: boolean;
  reason?: string;
  invalidReason?: string;
}

export interface QgRequest {
  id: string;
  status: RequestStatus;
  policyId: string;
  credential: { id: string; version: number };
  operation: Operation;
  /** `name`: the username or service-account name (null when unknown; absent from older gateways) */
  requester: { id: string; kind: 'user' | 'service_account'; name?: string | null };
  reason: string;
  digest: string;
  digestInput: DigestInputShape;
  requestKey: JWK;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  approvalsRequired: number;
  approvalsReceived: number;
  custodians: string[];
  /** user id → username for the custodians and a human requester */
  names?: Record<string, string>;
  approvals: Approval[];
  finishedAt?: string | null;
  result?: Record<string, unknown>;
}

export interface ShareEnvelope {
  envelope: string;
  index: number;
  credentialVersion: number;
}

export interface Credential {
  id: string;
  name: string;
  kind: CredentialKind;
  config: Record<string, unknown>;
  version: number;
  threshold: number;
  custodians: { userId: string; index: number }[];
  publicInfo?: Record<string, unknown> | null;
  createdAt: string;
}

export interface OperationRule {
  kind: string;
  constraints?: Record<string, string | string[] | boolean>;
}

export interface Policy {
  id: string;
  name: string;
  credentialId: string;
  operations: OperationRule[];
  approvals: { min: number; groups?: { group: string; min: number }[]; allowRequesterApproval?: boolean };
  requesters: { roles?: string[]; users?: string[]; serviceAccounts?: string[] } | null;
  requestTtlSeconds: number;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  data: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  headHash: string;
  firstBadSeq?: number;
}

export interface NewCredential {
  name: string;
  kind: CredentialKind;
  config: Record<string, unknown>;
  secret: string;
  custodians: string[];
  threshold: number;
}

export type NewPolicy = Omit<Policy, 'id' | 'requesters'> & { requesters?: Policy['requesters'] };

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

async function call<T>(route: ApiRoute, options: { params?: Record<string, string>; query?: URLSearchParams; body?: unknown } = {}): Promise<T> {
  const path = routePath(route, options.params, options.query);
  const { body } = options;
  let res: Response;
  try {
    res = await fetch(path, {
      method: route.method,
      credentials: 'same-origin',
      headers: { accept: 'application/json, application/problem+json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, 'Network error', 'The gateway did not answer. Check your connection and try again.');
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const p = (parsed ?? {}) as { title?: string; detail?: string; code?: string; correlationId?: string };
    if (res.status === 401 && route !== API_ROUTES.login) onUnauthorized();
    throw new ApiError(res.status, p.title ?? res.statusText, p.detail ?? `The gateway answered ${res.status} ${res.statusText}.`, p.code, p.correlationId);
  }
  return parsed as T;
}

const R = API_ROUTES;

export const api = {
  login: (username: string, password: string) => call<{ expiresIn: number }>(R.login, { body: { username, password } }),
  logout: () => call<void>(R.logout),
  me: () => call<Me>(R.me),
  enrolKeys: (keys: { encryptionKey: JWK; signingKey: JWK }) => call<Me>(R.enrolKeys, { body: keys }),

  listRequests: (query: { status?: RequestStatus; approvable?: boolean } = {}) => {
    const q = new URLSearchParams();
    if (query.status !== undefined) q.set('status', query.status);
    if (query.approvable === true) q.set('approvable', 'true');
    return call<{ requests: QgRequest[] }>(R.listRequests, { query: q }).then((r) => r.requests);
  },
  getRequest: (id: string) => call<QgRequest>(R.getRequest, { params: { id } }),
  getShare: (id: string) => call<ShareEnvelope>(R.getShare, { params: { id } }),
  decide: (id: string, body: { decision: 'approve' | 'reject'; statement: string; share?: string; reason?: string }) =>
    call<Approval & { request: { id: string; status: RequestStatus; approvalsReceived: number; approvalsRequired: number } }>(R.decide, { params: { id }, body }),
  cancelRequest: (id: string) => call<QgRequest>(R.cancelRequest, { params: { id } }),

  getCredential: (idOrName: string) => call<Credential>(R.getCredential, { params: { idOrName } }),
  listCredentials: () => call<{ credentials: Credential[] }>(R.listCredentials).then((r) => r.credentials),
  createCredential: (body: NewCredential) => call<Credential>(R.createCredential, { body }),
  getPolicy: (id: string) => call<Policy>(R.getPolicy, { params: { id } }),
  listPolicies: () => call<{ policies: Policy[] }>(R.listPolicies).then((r) => r.policies),
  createPolicy: (body: NewPolicy) => call<Policy>(R.createPolicy, { body }),

  listUsers: () => call<{ users: User[] }>(R.listUsers).then((r) => r.users),
  createUser: (body: { username: string; password: string; displayName: string; roles: Role[]; groups: string[] }) => call<User>(R.createUser, { body }),
  listServiceAccounts: () => call<{ serviceAccounts: ServiceAccount[] }>(R.listServiceAccounts).then((r) => r.serviceAccounts),
  createServiceAccount: (body: { name: string; roles: Role[] }) => call<ServiceAccount & { token: string }>(R.createServiceAccount, { body }),

  listAudit: (afterSeq: number, limit = 100) =>
    call<{ entries: AuditEntry[] }>(R.listAudit, { query: new URLSearchParams({ afterSeq: String(afterSeq), limit: String(limit) }) }).then((r) => r.entries),
  verifyAudit: () => call<AuditVerification>(R.verifyAudit),
};

/** A readable sentence for any error thrown while talking to the gateway. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return error.detail;
    return `${error.detail}${error.correlationId !== undefined ? ` (reference ${error.correlationId})` : ''}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
