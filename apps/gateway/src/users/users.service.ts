import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { AuditWriter } from '../audit/audit-writer.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { generateServiceToken, hashPassword, serviceTokenHmac, verifyPassword } from '../auth/secrets.js';
import type { Principal, Role } from '../auth/principal.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { RequestLifecycle } from '../requests/request-lifecycle.js';
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
  type KeyCheckedUserRow,
  type UserRow,
} from './accounts.repository.js';
import { MarginWatch } from '../notifications/margin-watch.js';
import { checkedEncryptionKid, findUserWithCheckedKeys } from './enrolled-keys.js';

/** What an admin may change of a user; absent fields stay as they are. */
export interface UserChange {
  roles?: Role[];
  groups?: string[];
  disabled?: boolean;
}

/** How recent a single sign-on user's sign-in must be to stand in for the password they do not have. */
export const FRESH_SIGN_IN_SECONDS = 300;

export interface NewUser {
  username: string;
  password: string;
  displayName: string;
  roles: Role[];
  groups?: string[];
}

@Injectable()
export class UsersService {
  private readonly throttle: LoginThrottle;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
    private readonly lifecycle: RequestLifecycle,
    private readonly margins: MarginWatch,
  ) {
    this.throttle = new LoginThrottle(ctx.dataSource, ctx.masterKey);
  }

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

  /**
   * Enforces: a signed-in user proves their current password again before a change
   * that a stolen session must not make alone (a new password, new keys). Wrong
   * passwords count against the same (username, client address) budget as failed
   * logins, so a session cannot be used to guess without limit: once it is spent,
   * 429 with `Retry-After`, before any hash is computed. `res` gives the client
   * address and takes `Retry-After`.
   */
  async confirmPassword(principal: Principal, password: string, res: Response): Promise<UserRow> {
    const user = await this.getUser(principal.id);
    const passwordHash = user.passwordHash;
    if (passwordHash === null) {
      throw new AppError('FORBIDDEN', 'this account signs in through single sign-on and has no password here');
    }
    const address = res.req.ip ?? 'unknown';
    const retryAfterSeconds = await this.throttle.retryAfterSeconds(user.username, address);
    if (retryAfterSeconds !== undefined) {
      this.ctx.log.warn({ userId: user.id, address }, 'current password not checked: too many failed attempts');
      res.setHeader('Retry-After', String(retryAfterSeconds));
      const wait = retryAfterSeconds < 120 ? `${retryAfterSeconds} s` : `${Math.ceil(retryAfterSeconds / 60)} min`;
      throw new AppError('TOO_MANY_ATTEMPTS', `too many wrong passwords for this user from this address; try again in ${wait}`, { retryAfterSeconds });
    }
    if (!(await verifyPassword(passwordHash, password))) {
      await this.throttle.recordFailure(user.username, address);
      this.ctx.log.warn({ userId: user.id, address }, 'wrong current password');
      throw new AppError('AUTH_INVALID_CREDENTIALS', 'the current password is wrong');
    }
    await this.throttle.clear(user.username, address);
    return user;
  }

  /**
   * Before a change a stolen session must not make alone (new keys): a password user
   * proves their current password (`confirmPassword`); a single sign-on user, who has
   * none, must have signed in within the last `FRESH_SIGN_IN_SECONDS` (their session's
   * access token says when), else 403 `FRESH_SIGN_IN_REQUIRED`.
   */
  async confirmIdentity(principal: Principal, currentPassword: string | undefined, res: Response): Promise<UserRow> {
    const user = await this.getUser(principal.id);
    if (user.passwordHash !== null) {
      if (currentPassword === undefined) throw new AppError('VALIDATION_FAILED', 'currentPassword is required');
      return this.confirmPassword(principal, currentPassword, res);
    }
    const age = principal.signedInAt === undefined ? Infinity : this.ctx.now().getTime() / 1000 - principal.signedInAt;
    if (!(age <= FRESH_SIGN_IN_SECONDS)) {
      throw new AppError('FRESH_SIGN_IN_REQUIRED', `sign in again through single sign-on, then do this within ${FRESH_SIGN_IN_SECONDS / 60} minutes`);
    }
    return user;
  }

  /**
   * Enforces: the caller proves the current password (`confirmPassword`); the new one
   * differs from it (400 PASSWORD_UNCHANGED: keeping the password an admin chose would
   * defeat the forced change); it is stored only as an argon2id hash and clears
   * `must_change_password`; every session of the user ends (the session epoch moves on),
   * this one too, so a thief's session dies with the old password.
   */
  async changePassword(principal: Principal, currentPassword: string, newPassword: string, res: Response): Promise<void> {
    const user = await this.confirmPassword(principal, currentPassword, res);
    if (newPassword === currentPassword) throw new AppError('PASSWORD_UNCHANGED', 'the new password must differ from the current one');
    const passwordHash = await hashPassword(newPassword);
    await this.audit.transaction(async (tx) => {
      await tx.query('UPDATE users SET password_hash = $2, must_change_password = false, session_epoch = session_epoch + 1 WHERE id = $1', [user.id, passwordHash]);
      await this.audit.append(tx, { actor: actorId(principal), action: 'user.password_changed', subject: `user:${user.id}` });
    });
  }

  /**
   * An admin sets a password for someone who lost theirs. Enforces (docs/adr/0013): not
   * for a single sign-on user (409: their password lives at the identity provider), not
   * for the admin's own account (409: a stolen session must not replace its own password
   * without the current one; PUT /me/password asks for it); the user must change it at
   * their next login; every session of theirs ends (the epoch moves on); audited
   * `user.password_reset`, without the password. A disabled user stays disabled.
   */
  async resetPassword(actor: Principal, id: string, password: string): Promise<void> {
    if (actor.kind === 'user' && actor.id === id) throw new AppError('CONFLICT', 'to change your own password, use PUT /api/v1/me/password with your current one');
    // Checked before the hash (no argon2 time for a wrong id) and again under the row lock.
    assertResettable(await findUserById(this.ctx.dataSource, id));
    const passwordHash = await hashPassword(password);
    await this.audit.transaction(async (tx) => {
      const user = await lockUser(tx, id);
      assertResettable(user);
      await tx.query('UPDATE users SET password_hash = $2, must_change_password = true, session_epoch = session_epoch + 1 WHERE id = $1', [user.id, passwordHash]);
      await this.audit.append(tx, { actor: actorId(actor), action: 'user.password_reset', subject: `user:${user.id}`, data: { username: user.username } });
    });
  }

  listUsers(): Promise<UserRow[]> {
    return listUsers(this.ctx.dataSource);
  }

  /** The thumbprint of the user's MAC-checked encryption key (`checkedEncryptionKid`), null when none or failing. */
  encryptionKidOf(user: UserRow): Promise<string | null> {
    return checkedEncryptionKid(this.ctx, user);
  }

  async getUser(id: string): Promise<UserRow> {
    const user = await findUserById(this.ctx.dataSource, id);
    if (user === undefined) throw new AppError('NOT_FOUND', 'no such user');
    return user;
  }

  /** The user as `GET /me` shows it: enrolled keys only if their MAC checks, else none (enrol again). */
  async getMe(id: string): Promise<KeyCheckedUserRow> {
    const user = await findUserWithCheckedKeys(this.ctx, id);
    if (user === undefined) throw new AppError('NOT_FOUND', 'no such user');
    return user;
  }

  /** The token is returned here once and stored only as an HMAC. */
  async createServiceAccount(actor: Principal, input: { name: string; roles: Role[]; ownerId?: string }): Promise<ServiceAccountRow & { token: string }> {
    const token = generateServiceToken();
    const ownerId = input.ownerId ?? (actor.kind === 'user' ? actor.id : undefined);
    if (ownerId === undefined) throw new AppError('VALIDATION_FAILED', 'name the ownerId: the user answerable for the account');
    return this.audit.transaction(async (tx) => {
      const owner = await lockUser(tx, ownerId);
      if (owner === undefined || owner.disabledAt !== null) throw new AppError('VALIDATION_FAILED', 'ownerId must be the id of an enabled user');
      const account = await insertServiceAccount(tx, {
        ownerId,
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
        data: { name: account.name, roles: account.roles, ownerId },
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
      if (next.disabled && user.disabledAt === null) await this.lifecycle.cancelPendingOf(tx, user.id, actorId(actor), 'requester_disabled');
      // Disabled, or roles changed: the margins of what they hold may cross 1 (credential.margin_low).
      if (change.disabled !== undefined || change.roles !== undefined) await this.margins.enqueue(tx, user.id);
      return updated;
    });
  }

  /** The account's token is refused from the next call on; the row stays for the audit log and past requests. */
  async revokeServiceAccount(actor: Principal, id: string): Promise<void> {
    await this.audit.transaction(async (tx) => {
      const account = await revokeServiceAccount(tx, id);
      if (account === undefined) throw new AppError('NOT_FOUND', 'no active service account with this id');
      await this.audit.append(tx, { actor: actorId(actor), action: 'service_account.revoked', subject: `service_account:${account.id}`, data: { name: account.name } });
      await this.lifecycle.cancelPendingOf(tx, account.id, actorId(actor), 'requester_revoked');
    });
  }
}

/** An admin may reset the password of a user who exists and has one (not a single sign-on user). */
function assertResettable(user: UserRow | undefined): asserts user is UserRow {
  if (user === undefined) throw new AppError('NOT_FOUND', 'no such user');
  if (user.passwordHash === null) throw new AppError('CONFLICT', 'this user signs in through single sign-on and has no password here');
}

export function actorId(actor: Principal | 'system'): string {
  return actor === 'system' ? 'system' : `${actor.kind === 'user' ? 'user' : 'service_account'}:${actor.id}`;
}
