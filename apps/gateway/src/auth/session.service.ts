import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import type { LoginResponse } from '#libs/contracts';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import type { UserRow } from '../users/accounts.repository.js';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken } from './access-tokens.js';
import { SESSION_COOKIE } from './strategies.js';

/** Who a session is started for: a user whose identity a login step has already proved. */
export type SessionUser = Pick<UserRow, 'id' | 'disabledAt'>;

/**
 * The one place a user session starts and ends, whatever proved who the user is
 * (a password today, single sign-on later), so every way in answers alike.
 *
 * Enforces, in `startSession`: a disabled account gets no session (403, audited as
 * `auth.login_failed` with reason `disabled`); the session cookie is HttpOnly,
 * SameSite=Strict, Secure when the request came over TLS, for the whole site, and
 * lives as long as the access token it carries; every session started is audited
 * (`auth.login`) before the cookie is set.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  /** Issues the access token, audits the login and sets the session cookie; the body is the login answer. */
  async startSession(user: SessionUser, res: Response): Promise<LoginResponse> {
    if (user.disabledAt !== null) {
      await this.audit.transaction((tx) =>
        this.audit.append(tx, { actor: `user:${user.id}`, action: 'auth.login_failed', subject: `user:${user.id}`, data: { reason: 'disabled' } }),
      );
      throw new AppError('FORBIDDEN', 'this account is disabled; an admin can enable it again');
    }
    const accessToken = await issueAccessToken(this.ctx.signingKey, user.id, Math.floor(this.ctx.now().getTime() / 1000));
    await this.audit.transaction((tx) => this.audit.append(tx, { actor: `user:${user.id}`, action: 'auth.login', subject: `user:${user.id}` }));
    res.cookie(SESSION_COOKIE, accessToken, {
      httpOnly: true,
      sameSite: 'strict',
      secure: res.req.secure,
      path: '/',
      maxAge: ACCESS_TOKEN_TTL_SECONDS * 1000,
    });
    return { accessToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SECONDS };
  }

  /** Clears the session cookie; the access token in it stays valid until it expires. */
  endSession(res: Response): void {
    res.clearCookie(SESSION_COOKIE, { path: '/' });
  }
}
