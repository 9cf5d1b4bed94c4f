import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AppError } from '../http/app-error.js';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AllowedBeforePasswordChange, Authenticated, CurrentPrincipal, Roles } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { ChangePasswordDto, CreateServiceAccountDto, CreateUserDto, ResetPasswordDto, UpdateUserDto } from './users.dto.js';
import { toMeResponse, toServiceAccountMe, toServiceAccountResponse, toUserResponse } from './users.mapper.js';
import { UsersService } from './users.service.js';

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('api/v1')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @Authenticated()
  @AllowedBeforePasswordChange()
  async me(@CurrentPrincipal() principal: Principal) {
    if (principal.kind === 'service_account') return toServiceAccountMe(principal);
    return toMeResponse(await this.users.getMe(principal.id));
  }

  @Put('me/password')
  @HttpCode(204)
  @Authenticated()
  @AllowedBeforePasswordChange()
  @ApiNoContentResponse({ description: 'changed; every session of the user ends, this one too (sign in again with the new password); clears mustChangePassword' })
  @ApiBadRequestResponse({ description: 'the new password is the current one (code PASSWORD_UNCHANGED), or is shorter than 12 characters (problem+json)' })
  @ApiUnauthorizedResponse({ description: 'the current password is wrong (code AUTH_INVALID_CREDENTIALS), or no session (problem+json)' })
  @ApiTooManyRequestsResponse({ description: 'too many wrong passwords for this user from this address; Retry-After gives the seconds to wait (problem+json)' })
  async changePassword(@CurrentPrincipal() principal: Principal, @Body() body: ChangePasswordDto, @Res({ passthrough: true }) res: Response): Promise<void> {
    if (principal.kind !== 'user') throw new AppError('FORBIDDEN', 'service accounts have no password');
    await this.users.changePassword(principal, body.currentPassword, body.newPassword, res);
  }

  @Post('users')
  @HttpCode(201)
  @Roles('admin')
  async createUser(@CurrentPrincipal() principal: Principal, @Body() body: CreateUserDto) {
    return toUserResponse(await this.users.createUser(principal, body));
  }

  @Get('users')
  @Roles('admin', 'security_lead', 'auditor')
  async listUsers() {
    const users = await this.users.listUsers();
    const kids = await Promise.all(users.map((u) => this.users.encryptionKidOf(u)));
    return { users: users.map((u, i) => ({ ...toUserResponse(u), keysEnrolled: u.signingKey !== null, encryptionThumbprint: kids[i] ?? null, mustChangePassword: u.mustChangePassword, signIn: u.passwordHash === null ? 'sso' : 'password' })) };
  }

  @Put('users/:id/password')
  @HttpCode(204)
  @Roles('admin')
  @ApiNoContentResponse({ description: 'the password is set; the user must change it at their next login, and every session of theirs has ended; audited user.password_reset' })
  @ApiForbiddenResponse({ description: 'not an admin (problem+json)' })
  @ApiNotFoundResponse({ description: 'no such user (problem+json)' })
  @ApiConflictResponse({ description: 'a single sign-on user, who has no password here, or the admin’s own account (use PUT /me/password) (problem+json)' })
  async resetPassword(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: ResetPasswordDto): Promise<void> {
    await this.users.resetPassword(principal, id, body.password);
  }

  @Patch('users/:id')
  @Roles('admin')
  async updateUser(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: UpdateUserDto) {
    if (body.roles === undefined && body.groups === undefined && body.disabled === undefined) {
      throw new AppError('VALIDATION_FAILED', 'give at least one of roles, groups, disabled');
    }
    return toUserResponse(await this.users.updateUser(principal, id, body));
  }

  @Post('service-accounts')
  @HttpCode(201)
  @Roles('admin')
  async createServiceAccount(@CurrentPrincipal() principal: Principal, @Body() body: CreateServiceAccountDto) {
    const account = await this.users.createServiceAccount(principal, body);
    return { ...toServiceAccountResponse(account), token: account.token };
  }

  @Get('service-accounts')
  @Roles('admin', 'auditor')
  async listServiceAccounts() {
    return { serviceAccounts: (await this.users.listServiceAccounts()).map(toServiceAccountResponse) };
  }

  @Delete('service-accounts/:id')
  @HttpCode(204)
  @Roles('admin')
  async revokeServiceAccount(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.users.revokeServiceAccount(principal, id);
  }
}
