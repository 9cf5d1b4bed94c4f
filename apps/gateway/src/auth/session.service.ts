import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { LoginResponse } from '#libs/contracts';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import type { UserRow } from '../users/accounts.repository.js';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken } from './access-tokens.js';
import { bearerToken, SESSION_COOKIE, userFromAccessToken } from './strategies.js';

/** Who a session is started for: a user whose identity a login step has already proved. */
export type SessionUser = Pick<UserRow, 'id' | 'disabledAt' | 'sessionEpoch' | 'mustChangePassword'>;

/**
 * The login request header by which the web UI asks for the session cookie: the
 * answer then sets the cookie and carries no token, so no script ever sees a
 * credential. Without it (the CLI, automation) the answer carries a bearer token
 * and sets no cookie. A custom header also makes a cross-origin login preflighted.
 */
export const SESSION_MODE_HEADER = 'x-qg-session';

/** The cookie's attributes; `__Host-` needs Secure, Path=/ and no Domain (docs/adr/0016). */
export function sessionCookieOptions(maxAgeMs?: number) {
  return { httpOnly: true, sameSite: 'strict' as const, secure: true, path: '/', ...(maxAgeMs !== undefined ? { maxAge: maxAgeMs } : {}) };
}

/**
 * The one place a user session starts and ends, whatever proved who the user is
 * (a password today, single sign-on later), so every way in answers alike.
 *
 * Enforces, in `startSession`: a disabled account gets no session (403, audited as
 * `auth.login_failed` with reason `disabled`); a client that asks for the cookie
 * (`SESSION_MODE_HEADER: cookie`) gets it and no token in the body, any other
 * gets the token and no cookie; the cookie is `__Host-`, HttpOnly, SameSite=Strict,
 * always Secure (browsers accept Secure cookies over plain HTTP only on loopback),
 * and lives as long as the access token it carries; every session started is
 * audited (`auth.login`) before the cookie is set; the answer says `mustChangePassword`
 * when the password is one an admin chose (docs/adr/0013). `endSessions` revokes them all.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  /**
   * Issues the access token, audits the login and sets the session cookie; the body is the login answer.
   * `cookie`: always the cookie (single sign-on's callback is a browser's navigation, which sends no header).
   */
  async startSession(user: SessionUser, res: Response, mode: 'asked' | 'cookie' = 'asked'): Promise<LoginResponse> {
    if (user.disabledAt !== null) {
      await this.audit.transaction((tx) =>
        this.audit.append(tx, { actor: `user:${user.id}`, action: 'auth.login_failed', subject: `user:${user.id}`, data: { reason: 'disabled' } }),
      );
      throw new AppError('FORBIDDEN', 'this account is disabled; an admin can enable it again');
    }
    const accessToken = await issueAccessToken(this.ctx.signingKey, user.id, Math.floor(this.ctx.now().getTime() / 1000), user.sessionEpoch);
    await this.audit.transaction((tx) => this.audit.append(tx, { actor: `user:${user.id}`, action: 'auth.login', subject: `user:${user.id}` }));
    const mustChange = user.mustChangePassword ? { mustChangePassword: true as const } : {};
    if (mode === 'cookie' || res.req.headers[SESSION_MODE_HEADER] === 'cookie') {
      res.cookie(SESSION_COOKIE, accessToken, sessionCookieOptions(ACCESS_TOKEN_TTL_SECONDS * 1000));
      return { tokenType: 'Cookie', expiresIn: ACCESS_TOKEN_TTL_SECONDS, ...mustChange };
    }
    return { accessToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SECONDS, ...mustChange };
  }

  /**
   * Logout: clears the cookie and, when the call carries a valid token (cookie or
   * bearer), revokes every session of its user by moving their session epoch on
   * (audited `auth.logout`). Every token of theirs, on every device, is refused
   * from the next call; the short token lifetime made per-device revocation not
   * worth a lookup on every call (docs/adr/0016).
   */
  async endSessions(req: Request, res: Response): Promise<void> {
    res.clearCookie(SESSION_COOKIE, sessionCookieOptions());
    const cookies = req.cookies as Record<string, string | undefined> | undefined;
    const principal = (await userFromAccessToken(this.ctx, bearerToken(req))) ?? (await userFromAccessToken(this.ctx, cookies?.[SESSION_COOKIE]));
    if (principal === null || principal.kind !== 'user' || principal.sessionEpoch === undefined) return;
    const epoch = principal.sessionEpoch;
    await this.audit.transaction(async (tx) => {
      const moved: unknown[] = await tx.query('UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1 AND session_epoch = $2 RETURNING id', [principal.id, epoch]);
      if (moved.length > 0) await this.audit.append(tx, { actor: `user:${principal.id}`, action: 'auth.logout', subject: `user:${principal.id}` });
    });
  }
}
