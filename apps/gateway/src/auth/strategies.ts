import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-custom';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { findServiceAccountByTokenHmac, serviceAccountPrincipal, userPrincipal } from '../users/accounts.repository.js';
import { findUserWithCheckedKeys } from '../users/enrolled-keys.js';
import { verifyAccessTokenClaims } from './access-tokens.js';
import type { Principal } from './principal.js';
import { PrincipalCache } from './principal-cache.js';
import { SERVICE_TOKEN_PREFIX, serviceTokenHmac } from './secrets.js';

/**
 * `__Host-`: the browser sets it only with Secure, Path=/ and no Domain, so neither a
 * sibling host nor a plain-HTTP page can plant or overwrite it.
 */
export const SESSION_COOKIE = '__Host-qg_session';

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
  return match?.[1];
}

export async function userFromAccessToken(ctx: GatewayContext, token: string | undefined, cache?: PrincipalCache): Promise<Principal | null> {
  if (token === undefined || token.startsWith(SERVICE_TOKEN_PREFIX)) return null;
  const claims = await verifyAccessTokenClaims(ctx.signingKey, token);
  if (claims === undefined) return null;
  // Read at every call, or kept until any change to users (PrincipalCache), so that
  // disabling a user, logging out or changing the password takes effect on their next
  // call; the signing key approvals are verified with comes only from keys whose MAC checks.
  const read = () => findUserWithCheckedKeys(ctx, claims.sub);
  const principal = userPrincipal(await (cache === undefined ? read() : cache.user(claims.sub, read)), claims.sep);
  return principal === null ? null : { ...principal, signedInAt: claims.iat };
}

/** `Authorization: Bearer <access token>` issued by POST /api/v1/auth/login. */
@Injectable()
export class BearerTokenStrategy extends PassportStrategy(Strategy, 'bearer-token') {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly cache: PrincipalCache,
  ) {
    super();
  }

  validate(req: Request): Promise<Principal | null> {
    return userFromAccessToken(this.ctx, bearerToken(req), this.cache);
  }
}

/** The web UI's HttpOnly, SameSite=Strict session cookie, carrying the same access token. */
@Injectable()
export class SessionCookieStrategy extends PassportStrategy(Strategy, 'session-cookie') {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly cache: PrincipalCache,
  ) {
    super();
  }

  validate(req: Request): Promise<Principal | null> {
    const cookies = req.cookies as Record<string, string | undefined> | undefined;
    return userFromAccessToken(this.ctx, cookies?.[SESSION_COOKIE], this.cache);
  }
}

/** `Authorization: Bearer qgs_…`, a service account's token, looked up by its HMAC. */
@Injectable()
export class ServiceTokenStrategy extends PassportStrategy(Strategy, 'service-token') {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly cache: PrincipalCache,
  ) {
    super();
  }

  async validate(req: Request): Promise<Principal | null> {
    const token = bearerToken(req);
    if (token === undefined || !token.startsWith(SERVICE_TOKEN_PREFIX)) return null;
    const tokenHmac = serviceTokenHmac(this.ctx.masterKey, token);
    return serviceAccountPrincipal(await this.cache.serviceAccount(tokenHmac, () => findServiceAccountByTokenHmac(this.ctx.dataSource, tokenHmac)));
  }
}
