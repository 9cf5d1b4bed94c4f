/**
 * Every gateway route the web UI calls, in OpenAPI path syntax. The browser
 * test checks each one against the gateway's own `/api/docs-json`, so a
 * renamed or removed endpoint fails the build instead of the 3 a.m. approval.
 * No imports: the test loads this file in Node.
 */
export const API_ROUTES = {
  login: { method: 'POST', path: '/api/v1/auth/login' },
  authMethods: { method: 'GET', path: '/api/v1/auth/methods' },
  /** Not fetched: the browser navigates there and comes back signed in. */
  oidcLogin: { method: 'GET', path: '/api/v1/auth/oidc/login' },
  logout: { method: 'POST', path: '/api/v1/auth/logout' },
  me: { method: 'GET', path: '/api/v1/me' },
  enrolKeys: { method: 'PUT', path: '/api/v1/me/keys' },
  changePassword: { method: 'PUT', path: '/api/v1/me/password' },
  events: { method: 'GET', path: '/api/v1/events' },
  listRequests: { method: 'GET', path: '/api/v1/requests' },
  submitRequest: { method: 'POST', path: '/api/v1/requests' },
  previewRequest: { method: 'POST', path: '/api/v1/requests/preview' },
  getRequest: { method: 'GET', path: '/api/v1/requests/{id}' },
  getShare: { method: 'GET', path: '/api/v1/requests/{id}/share' },
  decide: { method: 'POST', path: '/api/v1/requests/{id}/approvals' },
  cancelRequest: { method: 'POST', path: '/api/v1/requests/{id}/cancel' },
  listCredentials: { method: 'GET', path: '/api/v1/credentials' },
  getCredential: { method: 'GET', path: '/api/v1/credentials/{idOrName}' },
  createCredential: { method: 'POST', path: '/api/v1/credentials' },
  getCredentialShare: { method: 'GET', path: '/api/v1/credentials/{id}/share' },
  checkIn: { method: 'POST', path: '/api/v1/credentials/{id}/check-ins' },
  getCredentialHealth: { method: 'GET', path: '/api/v1/credentials/{id}/health' },
  listCredentialVersions: { method: 'GET', path: '/api/v1/credentials/{id}/versions' },
  custodyAffected: { method: 'GET', path: '/api/v1/custody/affected' },
  listPolicies: { method: 'GET', path: '/api/v1/policies' },
  getPolicy: { method: 'GET', path: '/api/v1/policies/{id}' },
  createPolicy: { method: 'POST', path: '/api/v1/policies' },
  deletePolicy: { method: 'DELETE', path: '/api/v1/policies/{id}' },
  updatePolicy: { method: 'PATCH', path: '/api/v1/policies/{id}' },
  searchDirectory: { method: 'GET', path: '/api/v1/directory' },
  listUsers: { method: 'GET', path: '/api/v1/users' },
  createUser: { method: 'POST', path: '/api/v1/users' },
  updateUser: { method: 'PATCH', path: '/api/v1/users/{id}' },
  resetPassword: { method: 'PUT', path: '/api/v1/users/{id}/password' },
  listServiceAccounts: { method: 'GET', path: '/api/v1/service-accounts' },
  createServiceAccount: { method: 'POST', path: '/api/v1/service-accounts' },
  revokeServiceAccount: { method: 'DELETE', path: '/api/v1/service-accounts/{id}' },
  listChannels: { method: 'GET', path: '/api/v1/notification-channels' },
  createChannel: { method: 'POST', path: '/api/v1/notification-channels' },
  updateChannel: { method: 'PATCH', path: '/api/v1/notification-channels/{id}' },
  deleteChannel: { method: 'DELETE', path: '/api/v1/notification-channels/{id}' },
  testChannel: { method: 'POST', path: '/api/v1/notification-channels/{id}/test' },
  listDeliveries: { method: 'GET', path: '/api/v1/notification-channels/{id}/deliveries' },
  getMyNotifications: { method: 'GET', path: '/api/v1/me/notifications' },
  putMyNotifications: { method: 'PUT', path: '/api/v1/me/notifications' },
  listAudit: { method: 'GET', path: '/api/v1/audit' },
  verifyAudit: { method: 'GET', path: '/api/v1/audit/verify' },
} as const satisfies Record<string, { method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; path: string }>;

export type ApiRoute = (typeof API_ROUTES)[keyof typeof API_ROUTES];

/** The route's path with its `{param}`s filled in (URL-encoded) and an optional query. */
export function routePath(route: ApiRoute, params: Record<string, string> = {}, query?: URLSearchParams): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`route ${route.path} needs ${name}`);
    return encodeURIComponent(value);
  });
  const qs = query?.toString() ?? '';
  return qs === '' ? path : `${path}?${qs}`;
}
