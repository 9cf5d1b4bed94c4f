import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiServiceUnavailableResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { LoginResponse } from '#libs/contracts';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { LoginDto } from '../users/users.dto.js';
import { Public } from './decorators.js';
import { PasswordLogin } from './password-login.js';
import { SessionService } from './session.service.js';
import { UnknownLoginTally } from './unknown-login-tally.js';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  private readonly passwordLogin: PasswordLogin;

  constructor(
    @Inject(GATEWAY_CONTEXT) ctx: GatewayContext,
    audit: AuditWriter,
    private readonly sessions: SessionService,
    unknownLogins: UnknownLoginTally,
  ) {
    this.passwordLogin = new PasswordLogin(ctx, audit, unknownLogins);
  }

  @Post('login')
  @HttpCode(200)
  @Public()
  @ApiUnauthorizedResponse({ description: 'wrong username or password (problem+json)' })
  @ApiTooManyRequestsResponse({ description: 'too many failed logins for this username from this address, from this network or in all; Retry-After gives the seconds to wait (problem+json)' })
  @ApiServiceUnavailableResponse({ description: 'too many password checks already waiting; Retry-After gives the seconds to wait (problem+json)' })
  @ApiHeader({ name: 'X-QG-Session', required: false, description: '"cookie": set the HttpOnly session cookie and leave the token out of the answer (the web UI); otherwise the answer carries a bearer token and no cookie is set' })
  async login(@Body() body: LoginDto, @Res({ passthrough: true }) res: Response): Promise<LoginResponse> {
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
}
