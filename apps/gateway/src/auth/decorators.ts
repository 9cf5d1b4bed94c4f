import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal, Role } from './principal.js';

export const ACCESS_KEY = 'qg:access';

/** Who may call a route. A route without one is refused to everyone (deny by default). */
export type Access = { kind: 'public' } | { kind: 'authenticated' } | { kind: 'roles'; roles: Role[] };

export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(ACCESS_KEY, { kind: 'public' } satisfies Access);
export const Authenticated = (): MethodDecorator & ClassDecorator => SetMetadata(ACCESS_KEY, { kind: 'authenticated' } satisfies Access);
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ACCESS_KEY, { kind: 'roles', roles } satisfies Access);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<Request & { user?: Principal }>().user;
  if (principal === undefined) throw new TypeError('CurrentPrincipal used on a route without authentication');
  return principal;
});

export const BEFORE_PASSWORD_CHANGE_KEY = 'qg:before-password-change';

/** A route a user whose password an admin chose may still call (reading /me, changing the password): see `PasswordChangeGuard`. */
export const AllowedBeforePasswordChange = (): MethodDecorator => SetMetadata(BEFORE_PASSWORD_CHANGE_KEY, true);
