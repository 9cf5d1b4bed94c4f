import { Body, Controller, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { findUserByUsername } from '../users/accounts.repository.js';
import { LoginDto } from '../users/users.dto.js';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken } from './access-tokens.js';
import { Public } from './decorators.js';
import { LoginThrottle } from './login-throttle.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './secrets.js';
import { SESSION_COOKIE } from './strategies.js';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  private readonly throttle: LoginThrottle;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {
    this.throttle = new LoginThrottle(ctx.dataSource);
  }

  @Post('login')
  @HttpCode(200)
  @Public()
  @ApiUnauthorizedResponse({ description: 'wrong username or password (problem+json)' })
  @ApiTooManyRequestsResponse({ description: 'too many failed logins for this username from this address; Retry-After gives the seconds to wait (problem+json)' })
  async login(@Body() body: LoginDto, @Res({ passthrough: true }) res: Response) {
    const address = res.req.ip ?? 'unknown';
    // Before the password hash: a refused attempt costs no argon2 time and adds no audit entry.
    const retryAfterSeconds = await this.throttle.retryAfterSeconds(body.username, address);
    if (retryAfterSeconds !== undefined) {
      this.ctx.log.warn({ username: body.username, address }, 'login refused: too many failed attempts');
      res.setHeader('Retry-After', String(retryAfterSeconds));
      const wait = retryAfterSeconds < 120 ? `${retryAfterSeconds} s` : `${Math.ceil(retryAfterSeconds / 60)} min`;
      throw new AppError('TOO_MANY_ATTEMPTS', `too many failed logins for this username from this address; try again in ${wait}`, { retryAfterSeconds });
    }
    const user = await findUserByUsername(this.ctx.dataSource, body.username);
    const ok = await verifyPassword(user?.passwordHash ?? DUMMY_PASSWORD_HASH, body.password);
    if (user === undefined || !ok) {
      await this.throttle.recordFailure(body.username, address);
      await this.audit.transaction((tx) =>
        this.audit.append(tx, { actor: 'anonymous', action: 'auth.login_failed', subject: `username:${body.username}` }),
      );
      throw new AppError('AUTH_INVALID_CREDENTIALS', 'wrong username or password');
    }
    await this.throttle.clear(body.username, address);
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

  @Post('logout')
  @HttpCode(204)
  @Public()
  logout(@Res({ passthrough: true }) res: Response): void {
    res.clearCookie(SESSION_COOKIE, { path: '/' });
  }
}
