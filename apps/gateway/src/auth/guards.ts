import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { AppError } from '../http/app-error.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { ACCESS_KEY, type Access } from './decorators.js';
import type { Principal } from './principal.js';

export const AUTH_STRATEGIES = ['service-token', 'bearer-token', 'session-cookie'];

function accessOf(reflector: Reflector, context: ExecutionContext): Access | undefined {
  return reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
}

/** Authenticates every route except those marked @Public(). */
@Injectable()
export class AuthenticationGuard extends AuthGuard(AUTH_STRATEGIES) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext): ReturnType<CanActivate['canActivate']> {
    if (accessOf(this.reflector, context)?.kind === 'public') return true;
    return super.canActivate(context);
  }

  override handleRequest<T>(error: unknown, principal: T): T {
    if (error !== null && error !== undefined) throw error;
    if (!principal) throw new AppError('AUTH_REQUIRED', 'a valid access token, session cookie or service-account token is required');
    return principal;
  }
}

/**
 * Enforces: the route declares who may call it (routes that declare nothing are
 * refused), and an authenticated principal holds at least one of the listed roles.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const access = accessOf(this.reflector, context);
    if (access === undefined) {
      this.ctx.log.error({ route: context.getClass().name + '.' + context.getHandler().name }, 'route declares no access rule; refused');
      throw new AppError('FORBIDDEN', 'this route is not open to anyone');
    }
    switch (access.kind) {
      case 'public':
      case 'authenticated':
        return true;
      case 'roles': {
        const principal = context.switchToHttp().getRequest<Request & { user?: Principal }>().user;
        if (principal !== undefined && principal.roles.some((r) => access.roles.includes(r))) return true;
        throw new AppError('FORBIDDEN', `requires one of the roles: ${access.roles.join(', ')}`);
      }
      default:
        throw new AppError('FORBIDDEN', 'unknown access rule');
    }
  }
}
