import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { GatewayContext } from '../gateway-context.js';
import { countUsers } from './accounts.repository.js';
import { UsersService } from './users.service.js';

export type BootstrapResult = { created: false } | { created: true; username: string; generatedPassword: string | undefined };

export const BOOTSTRAP_ADMIN_USERNAME = 'admin';

/** On the very first start (no users at all) creates the admin account. */
export async function bootstrapAdmin(app: INestApplication, ctx: GatewayContext): Promise<BootstrapResult> {
  if ((await countUsers(ctx.dataSource)) > 0) return { created: false };
  const generatedPassword = ctx.config.bootstrapAdminPassword === undefined ? randomBytes(18).toString('base64url') : undefined;
  try {
    await app.get(UsersService).createUser('system', {
      username: BOOTSTRAP_ADMIN_USERNAME,
      password: ctx.config.bootstrapAdminPassword ?? generatedPassword ?? '',
      displayName: 'Administrator',
      roles: ['admin', 'security_lead', 'auditor'],
    });
  } catch (error) {
    // Another replica bootstrapped at the same moment.
    if ((error as { code?: string }).code === 'USERNAME_TAKEN') return { created: false };
    throw error;
  }
  return { created: true, username: BOOTSTRAP_ADMIN_USERNAME, generatedPassword };
}
