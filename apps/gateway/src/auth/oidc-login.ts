import type { Request, Response } from 'express';
import * as oidc from 'openid-client';
import { openWithMasterKey, sealWithMasterKey } from '#libs/crypto';
import type { AuditWriter } from '../audit/audit-writer.js';
import type { OidcConfig } from '../config/config.js';
import { isLoopbackHost } from '../config/config.js';
import type { GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { findUserById, lockEnabledAdminIds, type UserRow } from '../users/accounts.repository.js';
import { insertOidcUser, lockUserIdByOidcIdentity, refreshOidcUser } from '../users/oidc-accounts.repository.js';
import { identityFromClaims, OidcClaimsError, type OidcIdentity } from './oidc-claims.js';

export const OIDC_LOGIN_PATH = '/api/v1/auth/oidc/login';
export const OIDC_CALLBACK_PATH = '/api/v1/auth/oidc/callback';
/** Carries the flow's state, nonce and PKCE verifier from the login redirect to the callback, sealed under the master key. */
export const OIDC_FLOW_COOKIE = 'qg_oidc_flow';
const FLOW_TTL_SECONDS = 600;
const FLOW_PURPOSE = 'oidc-flow';

/** Why a sign-in through the provider was refused; audited as `auth.login_failed` `{method: 'oidc', reason}`. */
export type OidcFailure =
  | 'flow_missing'
  | 'state_mismatch'
  | 'provider_error'
  | 'code_rejected'
  | 'id_token_invalid'
  | 'id_token_audience'
  | 'id_token_nonce'
  | 'id_token_issuer'
  | 'id_token_expired'
  | 'subject_missing'
  | 'username_missing'
  | 'username_invalid'
  | 'username_taken';

interface Flow {
  state: string;
  nonce: string;
  verifier: string;
  exp: number;
}

/**
 * Proves a user through the OpenID provider: authorization code flow with PKCE
 * (S256), `state` and `nonce`, all through openid-client. Enforces, in order:
 * - the callback carries the sealed flow cookie this browser got at the redirect
 *   (sealed under the master key, 10 minutes), so a callback URL from someone
 *   else's flow signs nobody in here (login CSRF);
 * - openid-client checks the `state`, the issuer's `iss` parameter, exchanges
 *   the code once with the PKCE verifier and validates the ID token: signature
 *   from the issuer's JWKS, `iss`, `aud` = our client id, `exp`/`iat`, `nonce`;
 * - the user is found by `(iss, sub)` only, never by name; on first login one
 *   is created, refused if the username is taken (by a password user or another
 *   identity), and the roles and groups are refreshed from the claim at each
 *   login (a disabled user's are left alone: `startSession` refuses them), except
 *   that the last enabled admin keeps `admin`, as an admin's own edit would;
 * - every refusal is audited (`auth.login_failed`, method `oidc`, a reason).
 * Whether the account may have a session is `SessionService.startSession`'s call.
 */
export class OidcLogin {
  private configuration: Promise<oidc.Configuration> | undefined;
  private readonly redirectUri: string;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
    private readonly config: OidcConfig,
    publicUrl: string,
  ) {
    this.redirectUri = publicUrl + OIDC_CALLBACK_PATH;
  }

  /** The provider's authorization URL for a new flow; sets the flow cookie on `res`. */
  async begin(res: Response): Promise<string> {
    const configuration = await this.discover();
    const flow: Flow = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      exp: Math.floor(this.ctx.now().getTime() / 1000) + FLOW_TTL_SECONDS,
    };
    const sealed = await sealWithMasterKey(Buffer.from(JSON.stringify(flow)), this.ctx.masterKey, FLOW_PURPOSE);
    // Lax, not Strict: the callback is a top-level navigation coming back from the provider's site.
    res.cookie(OIDC_FLOW_COOKIE, sealed, { httpOnly: true, sameSite: 'lax', secure: res.req.secure, path: OIDC_CALLBACK_PATH, maxAge: FLOW_TTL_SECONDS * 1000 });
    return oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: this.config.scopes,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    }).href;
  }

  /** The user the provider's answer proves, created or refreshed; clears the flow cookie. */
  async complete(req: Request, res: Response): Promise<UserRow> {
    res.clearCookie(OIDC_FLOW_COOKIE, { path: OIDC_CALLBACK_PATH });
    const flow = await this.openFlow((req.cookies as Record<string, unknown> | undefined)?.[OIDC_FLOW_COOKIE]);
    if (flow === undefined) return this.refuse('flow_missing', 'this sign-in did not start here or took more than 10 minutes; start again');
    const configuration = await this.discover();
    const query = new URL(req.originalUrl, 'http://callback.invalid').search;
    let claims: Record<string, unknown> | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, new URL(this.redirectUri + query), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims() as Record<string, unknown> | undefined;
    } catch (error) {
      const reason = classifyOidcError(error);
      this.ctx.log.warn({ reason, error: describeOidcError(error) }, 'single sign-on refused');
      return this.refuse(reason, `the identity provider's answer was refused (${reason})`);
    }
    if (claims === undefined) return this.refuse('id_token_invalid', 'the identity provider returned no ID token');
    let identity: OidcIdentity;
    try {
      identity = identityFromClaims(claims, this.config);
    } catch (error) {
      if (!(error instanceof OidcClaimsError)) throw error;
      return this.refuse(error.reason, error.message, typeof claims.sub === 'string' ? claims.sub : undefined);
    }
    const user = await this.link(identity);
    if (user === undefined) {
      return this.refuse('username_taken', `the username "${identity.username}" belongs to another account here; an admin must rename or remove it`, identity.subject, 'USERNAME_TAKEN');
    }
    return user;
  }

  /** Finds the user by `(iss, sub)`, creating or refreshing it; undefined when a new user's name is taken. */
  private async link(identity: OidcIdentity): Promise<UserRow | undefined> {
    const id = await this.audit.transaction(async (tx) => {
      // Locked before the user, in the order `UsersService.updateUser` takes them.
      const admins = await lockEnabledAdminIds(tx);
      const linked = (await lockUserIdByOidcIdentity(tx, identity.issuer, identity.subject)) ?? (await this.create(tx, identity));
      if (linked === undefined) return undefined;
      const user = await findUserById(tx, linked);
      if (user === undefined || user.disabledAt !== null) return linked;
      const fresh = { displayName: identity.displayName, email: identity.email, roles: identity.roles, groups: identity.groups };
      // As for an admin's edit: the last enabled admin is never demoted (here: kept, and the audit entry says so).
      const keptAdmin = admins.length === 1 && admins[0] === linked && !fresh.roles.includes('admin');
      if (keptAdmin) {
        fresh.roles = [...fresh.roles, 'admin' as const].sort();
        this.ctx.log.warn({ userId: linked }, 'single sign-on would remove the last enabled admin: admin role kept');
      }
      await refreshOidcUser(tx, linked, fresh);
      if (!sameList(user.roles, fresh.roles) || !sameList(user.groups, fresh.groups)) {
        await this.audit.append(tx, {
          actor: 'system',
          action: 'user.updated',
          subject: `user:${linked}`,
          data: { via: 'oidc', roles: fresh.roles, groups: fresh.groups, previousRoles: user.roles, previousGroups: user.groups, ...(keptAdmin ? { keptAdmin: 'last_enabled_admin' } : {}) },
        });
      }
      return linked;
    });
    return id === undefined ? undefined : findUserById(this.ctx.dataSource, id);
  }

  private async create(tx: Parameters<Parameters<AuditWriter['transaction']>[0]>[0], identity: OidcIdentity): Promise<string | undefined> {
    const id = await insertOidcUser(tx, { ...identity });
    // The same person's first two logins at once: the other one created the link.
    if (id === undefined) return lockUserIdByOidcIdentity(tx, identity.issuer, identity.subject);
    await this.audit.append(tx, {
      actor: 'system',
      action: 'user.created',
      subject: `user:${id}`,
      data: { via: 'oidc', issuer: identity.issuer, subject: identity.subject, username: identity.username, roles: identity.roles, groups: identity.groups },
    });
    return id;
  }

  private async refuse(reason: OidcFailure, message: string, subject?: string, code: 'SSO_FAILED' | 'USERNAME_TAKEN' = 'SSO_FAILED'): Promise<never> {
    await this.audit.transaction((tx) =>
      this.audit.append(tx, {
        actor: 'anonymous',
        action: 'auth.login_failed',
        subject: subject === undefined ? `oidc:${this.config.issuer}` : `oidc:${this.config.issuer}#${subject}`,
        data: { method: 'oidc', reason },
      }),
    );
    throw new AppError(code, message, { reason });
  }

  private async openFlow(cookie: unknown): Promise<Flow | undefined> {
    if (typeof cookie !== 'string' || cookie === '') return undefined;
    try {
      const flow = JSON.parse((await openWithMasterKey(cookie, this.ctx.masterKey, FLOW_PURPOSE)).toString('utf8')) as Flow;
      return flow.exp > this.ctx.now().getTime() / 1000 ? flow : undefined;
    } catch {
      return undefined;
    }
  }

  /** Discovery once, on first use (so the gateway starts while the provider is down), again after a failure. */
  private discover(): Promise<oidc.Configuration> {
    this.configuration ??= this.fetchConfiguration().catch((error: unknown) => {
      this.configuration = undefined;
      this.ctx.log.error({ error: describeOidcError(error), issuer: this.config.issuer }, 'OpenID provider discovery failed');
      throw new AppError('SSO_UNAVAILABLE', 'the identity provider cannot be reached; try again in a moment, or tell an admin');
    });
    return this.configuration;
  }

  private fetchConfiguration(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret } = this.config;
    const insecure = new URL(issuer).protocol === 'http:' && isLoopbackHost(new URL(issuer).hostname);
    return oidc.discovery(new URL(issuer), clientId, clientSecret, clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(clientSecret), {
      execute: insecure ? [oidc.allowInsecureRequests] : [],
      timeout: 10,
    });
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);
}

/** Maps openid-client's and oauth4webapi's errors to the reason audited; anything unknown is an invalid answer. */
export function classifyOidcError(error: unknown): OidcFailure {
  if (error instanceof oidc.AuthorizationResponseError) return 'provider_error';
  if (error instanceof oidc.ResponseBodyError) return 'code_rejected';
  const code = (error as { code?: unknown }).code;
  // openid-client wraps oauth4webapi's error, whose `cause` names the claim that failed.
  const details = [error, (error as { cause?: unknown }).cause].map((e) => (e as { cause?: unknown } | undefined)?.cause);
  const claim = details.map((d) => (d as { claim?: unknown } | undefined)?.claim).find((c) => c !== undefined);
  const message = [error, (error as { cause?: unknown }).cause].map((e) => (e instanceof Error ? e.message : '')).join(' ');
  if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') {
    if (claim === 'aud' || claim === 'azp' || /"(aud|azp)"/.test(message)) return 'id_token_audience';
    if (claim === 'nonce' || /"nonce"/.test(message)) return 'id_token_nonce';
    if (claim === 'iss' || /"iss"/.test(message)) return 'id_token_issuer';
  }
  if (code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') return 'id_token_expired';
  if (code === 'OAUTH_INVALID_RESPONSE' && /"state"/.test(message)) return 'state_mismatch';
  return 'id_token_invalid';
}

function describeOidcError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const cause = (error as { cause?: unknown }).cause;
  return { name: error.name, message: error.message, code: (error as { code?: unknown }).code, cause: cause instanceof Error ? cause.message : undefined };
}
