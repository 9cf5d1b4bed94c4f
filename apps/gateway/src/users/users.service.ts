import { Inject, Injectable } from '@nestjs/common';
import { AuditWriter } from '../audit/audit-writer.js';
import { generateServiceToken, hashPassword, serviceTokenHmac, verifyPassword } from '../auth/secrets.js';
import type { Principal, Role } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import {
  findUserById,
  insertServiceAccount,
  insertUser,
  listServiceAccounts,
  listUsers,
  lockEnabledAdminIds,
  lockUser,
  revokeServiceAccount,
  updateUserAccess,
  type ServiceAccountRow,
  type UserRow,
} from './accounts.repository.js';

/** What an admin may change of a user; absent fields stay as they are. */
export interface UserChange {
  roles?: Role[];
  groups?: string[];
  disabled?: boolean;
}

export interface NewUser {
  username: string;
  password: string;
  displayName: string;
  roles: Role[];
  groups?: string[];
}

@Injectable()
export class UsersService {
  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {}

  async createUser(actor: Principal | 'system', input: NewUser): Promise<UserRow> {
    const passwordHash = await hashPassword(input.password);
    return this.audit.transaction(async (tx) => {
      const user = await insertUser(tx, { ...input, passwordHash, groups: input.groups ?? [] });
      if (user === undefined) throw new AppError('USERNAME_TAKEN', `a user named "${input.username}" already exists`);
      await this.audit.append(tx, {
        actor: actorId(actor),
        action: 'user.created',
        subject: `user:${user.id}`,
        data: { username: user.username, roles: user.roles, groups: user.groups },
      });
      return user;
    });
  }

  /** Enforces: the caller proves the current password; the new one is stored only as an argon2id hash. */
  async changePassword(principal: Principal, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.getUser(principal.id);
    if (!(await verifyPassword(user.passwordHash, currentPassword))) throw new AppError('AUTH_INVALID_CREDENTIALS', 'the current password is wrong');
    const passwordHash = await hashPassword(newPassword);
    await this.audit.transaction(async (tx) => {
      await tx.query('UPDATE users SET password_hash = $2 WHERE id = $1', [user.id, passwordHash]);
      await this.audit.append(tx, { actor: actorId(principal), action: 'user.password_changed', subject: `user:${user.id}` });
    });
  }

  listUsers(): Promise<UserRow[]> {
    return listUsers(this.ctx.dataSource);
  }

  async getUser(id: string): Promise<UserRow> {
    const user = await findUserById(this.ctx.dataSource, id);
    if (user === undefined) throw new AppError('NOT_FOUND', 'no such user');
    return user;
  }

  /** The token is returned here once and stored only as an HMAC. */
  async createServiceAccount(actor: Principal, input: { name: string; roles: Role[] }): Promise<ServiceAccountRow & { token: string }> {
    const token = generateServiceToken();
    return this.audit.transaction(async (tx) => {
      const account = await insertServiceAccount(tx, {
        name: input.name,
        roles: input.roles,
        tokenHmac: serviceTokenHmac(this.ctx.masterKey, token),
        createdBy: actor.kind === 'user' ? actor.id : null,
      });
      if (account === undefined) throw new AppError('NAME_TAKEN', `a service account named "${input.name}" already exists`);
      await this.audit.append(tx, {
        actor: actorId(actor),
        action: 'service_account.created',
        subject: `service_account:${account.id}`,
        data: { name: account.name, roles: account.roles },
      });
      return { ...account, token };
    });
  }

  listServiceAccounts(): Promise<ServiceAccountRow[]> {
    return listServiceAccounts(this.ctx.dataSource);
  }

  /**
   * Roles, groups and whether the user may sign in; effective from their next call.
   * Enforces: at least one enabled admin remains (the admins' rows are locked, so two
   * admins removing each other at once cannot both succeed).
   */
  async updateUser(actor: Principal, id: string, change: UserChange): Promise<UserRow> {
    return this.audit.transaction(async (tx) => {
      const admins = await lockEnabledAdminIds(tx);
      const user = await lockUser(tx, id);
      if (user === undefined) throw new AppError('NOT_FOUND', 'no such user');
      const next = { roles: change.roles ?? user.roles, groups: change.groups ?? user.groups, disabled: change.disabled ?? user.disabledAt !== null };
      const staysEnabledAdmin = next.roles.includes('admin') && !next.disabled;
      if (admins.includes(user.id) && !staysEnabledAdmin && admins.length === 1) {
        throw new AppError('CONFLICT', 'this would leave no enabled admin; make another user admin first');
      }
      const updated = await updateUserAccess(tx, user.id, next);
      await this.audit.append(tx, { actor: actorId(actor), action: 'user.updated', subject: `user:${user.id}`, data: { ...change } });
      return updated;
    });
  }

  /** The account's token is refused from the next call on; the row stays for the audit log and past requests. */
  async revokeServiceAccount(actor: Principal, id: string): Promise<void> {
    await this.audit.transaction(async (tx) => {
      const account = await revokeServiceAccount(tx, id);
      if (account === undefined) throw new AppError('NOT_FOUND', 'no active service account with this id');
      await this.audit.append(tx, { actor: actorId(actor), action: 'service_account.revoked', subject: `service_account:${account.id}`, data: { name: account.name } });
    });
  }
}

export function actorId(actor: Principal | 'system'): string {
  return actor === 'system' ? 'system' : `${actor.kind === 'user' ? 'user' : 'service_account'}:${actor.id}`;
}
