import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiForbiddenResponse, ApiHeader, ApiOkResponse, ApiResponse, ApiServiceUnavailableResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { AuthMethods, LoginResponse } from '#libs/contracts';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { BOOTSTRAP_ADMIN_USERNAME } from '../users/bootstrap-admin.js';
import { LoginDto } from '../users/users.dto.js';
import { Public } from './decorators.js';
import { OIDC_LOGIN_PATH, OidcLogin } from './oidc-login.js';
import { PasswordLogin } from './password-login.js';
import { SessionService } from './session.service.js';
import { UnknownLoginTally } from './unknown-login-tally.js';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  private readonly passwordLogin: PasswordLogin;
  private readonly oidcLogin: OidcLogin | undefined;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    audit: AuditWriter,
    private readonly sessions: SessionService,
    unknownLogins: UnknownLoginTally,
  ) {
    this.passwordLogin = new PasswordLogin(ctx, audit, unknownLogins);
    const { oidc, publicUrl } = ctx.config;
    this.oidcLogin = oidc !== undefined && publicUrl !== undefined ? new OidcLogin(ctx, audit, oidc, publicUrl) : undefined;
  }

  @Get('methods')
  @Public()
  @ApiOkResponse({ description: 'how to sign in: `{password, sso: {name, loginUrl} | null}`' })
  methods(): AuthMethods {
    const { oidc, passwordLogin } = this.ctx.config;
    return { password: passwordLogin !== false, sso: oidc === undefined ? null : { name: oidc.name, loginUrl: OIDC_LOGIN_PATH } };
  }

  /** Enforces, with `QG_PASSWORD_LOGIN=off`: nobody but the bootstrap admin gets as far as a password check. */
  @Post('login')
  @HttpCode(200)
  @Public()
  @ApiUnauthorizedResponse({ description: 'wrong username or password (problem+json)' })
  @ApiForbiddenResponse({ description: 'password login is off (QG_PASSWORD_LOGIN=off) for everyone but the bootstrap admin, or the account is disabled (problem+json)' })
  @ApiTooManyRequestsResponse({ description: 'too many failed logins for this username from this address, from this network or in all; Retry-After gives the seconds to wait (problem+json)' })
  @ApiServiceUnavailableResponse({ description: 'too many password checks already waiting; Retry-After gives the seconds to wait (problem+json)' })
  @ApiHeader({ name: 'X-QG-Session', required: false, description: '"cookie": set the HttpOnly session cookie and leave the token out of the answer (the web UI); otherwise the answer carries a bearer token and no cookie is set' })
  async login(@Body() body: LoginDto, @Res({ passthrough: true }) res: Response): Promise<LoginResponse> {
    if (this.ctx.config.passwordLogin === false && body.username !== BOOTSTRAP_ADMIN_USERNAME) {
      throw new AppError('FORBIDDEN', `password login is off here; sign in with ${this.ctx.config.oidc?.name ?? 'single sign-on'}`);
    }
    const user = await this.passwordLogin.verify(body, res);
    return this.sessions.startSession(user, res);
  }

  /** Ends every session of the caller's user (`SessionService.endSessions`); without a valid token it only clears the cookie. */
  @Post('logout')
  @HttpCode(204)
  @Public()
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.endSessions(req, res);
  }

  @Get('oidc/login')
  @Public()
  @ApiResponse({ status: 303, description: 'redirect to the identity provider: authorization code flow with PKCE, state and nonce' })
  @ApiServiceUnavailableResponse({ description: 'the identity provider cannot be reached (problem+json); 404 when single sign-on is not configured' })
  async oidcStart(@Res() res: Response): Promise<void> {
    const url = await this.oidc().begin(res);
    res.redirect(303, url);
  }

  /**
   * The provider sends the browser back here. A browser (Accept: text/html) is sent
   * on to the UI, signed in or with `?sso_error=<reason>`; any other client gets
   * problem+json (401 `SSO_FAILED` with `reason`, 409 `USERNAME_TAKEN`, 403 disabled).
   */
  @Get('oidc/callback')
  @Public()
  @ApiResponse({ status: 303, description: 'signed in: the session cookie and a redirect to the UI (a refused browser: to /?sso_error=<reason>)' })
  @ApiUnauthorizedResponse({ description: 'the provider’s answer was refused (code SSO_FAILED, with a reason), audited (problem+json)' })
  async oidcCallback(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const user = await this.oidc().complete(req, res);
      await this.sessions.startSession(user, res, 'cookie');
    } catch (error) {
      if (!(error instanceof AppError) || req.accepts(['application/json', 'text/html']) !== 'text/html') throw error;
      const reason = typeof error.extra.reason === 'string' ? error.extra.reason : error.code.toLowerCase();
      res.redirect(303, `/?sso_error=${encodeURIComponent(reason)}`);
      return;
    }
    res.redirect(303, '/');
  }

  private oidc(): OidcLogin {
    if (this.oidcLogin === undefined) throw new AppError('NOT_FOUND', 'single sign-on is not configured here');
    return this.oidcLogin;
  }
}
