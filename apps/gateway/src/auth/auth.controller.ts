import { Body, Controller, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import type { LoginResponse } from '#libs/contracts';
import { AuditWriter } from '../audit/audit-writer.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { LoginDto } from '../users/users.dto.js';
import { Public } from './decorators.js';
import { PasswordLogin } from './password-login.js';
import { SessionService } from './session.service.js';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  private readonly passwordLogin: PasswordLogin;

  constructor(
    @Inject(GATEWAY_CONTEXT) ctx: GatewayContext,
    audit: AuditWriter,
    private readonly sessions: SessionService,
  ) {
    this.passwordLogin = new PasswordLogin(ctx, audit);
  }

  @Post('login')
  @HttpCode(200)
  @Public()
  @ApiUnauthorizedResponse({ description: 'wrong username or password (problem+json)' })
  @ApiTooManyRequestsResponse({ description: 'too many failed logins for this username from this address; Retry-After gives the seconds to wait (problem+json)' })
  async login(@Body() body: LoginDto, @Res({ passthrough: true }) res: Response): Promise<LoginResponse> {
    const user = await this.passwordLogin.verify(body, res);
    return this.sessions.startSession(user, res);
  }

  @Post('logout')
  @HttpCode(204)
  @Public()
  logout(@Res({ passthrough: true }) res: Response): void {
    this.sessions.endSession(res);
  }
}
