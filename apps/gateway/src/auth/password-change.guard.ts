import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppError } from '../http/app-error.js';
import { BEFORE_PASSWORD_CHANGE_KEY } from './decorators.js';
import type { Principal } from './principal.js';

/**
 * Enforces (docs/adr/0013): a user whose password an admin chose (a new account, a
 * reset, the bootstrap admin) reaches only the routes marked `AllowedBeforePasswordChange`
 * (GET /me, PUT /me/password) until they change it; every other authenticated route
 * answers 403 PASSWORD_CHANGE_REQUIRED, before its roles are checked or its body validated.
 * Public routes (login, logout) have no principal here and pass. Single sign-on users
 * and service accounts never carry the flag.
 */
@Injectable()
export class PasswordChangeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const principal = context.switchToHttp().getRequest<Request & { user?: Principal }>().user;
    if (principal?.mustChangePassword !== true) return true;
    if (this.reflector.get<boolean | undefined>(BEFORE_PASSWORD_CHANGE_KEY, context.getHandler()) === true) return true;
    throw new AppError('PASSWORD_CHANGE_REQUIRED', 'change your password first: PUT /api/v1/me/password (qg passwd, or the web UI)');
  }
}
