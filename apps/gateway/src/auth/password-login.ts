import type { Response } from 'express';
import type { LoginBody } from '#libs/contracts';
import type { AuditWriter } from '../audit/audit-writer.js';
import type { GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { findUserByUsername, type UserRow } from '../users/accounts.repository.js';
import { LoginThrottle } from './login-throttle.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './secrets.js';

/**
 * Proves a user by username and password. Enforces, in this order (docs/adr/0007):
 * - a (username, client address) pair with too many recent failures is refused with
 *   429 and `Retry-After`, before the user lookup and the argon2 hash, so a refused
 *   attempt costs no hash time and writes no audit entry (a warning is logged);
 * - an unknown username costs the same hash as a known one (`DUMMY_PASSWORD_HASH`),
 *   and answers the same 401 as a wrong password;
 * - each failure counts against the pair and is audited (`auth.login_failed`);
 * - a success clears the pair's count.
 * Whether the account may have a session is `SessionService.startSession`'s call.
 */
export class PasswordLogin {
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
  ) {
    this.throttle = new LoginThrottle(ctx.dataSource);
  }

  /** The user these credentials prove; `res` gives the client address and takes `Retry-After`. */
  async verify(credentials: LoginBody, res: Response): Promise<UserRow> {
    const { username, password } = credentials;
    const address = res.req.ip ?? 'unknown';
    const retryAfterSeconds = await this.throttle.retryAfterSeconds(username, address);
    if (retryAfterSeconds !== undefined) {
      this.ctx.log.warn({ username, address }, 'login refused: too many failed attempts');
      res.setHeader('Retry-After', String(retryAfterSeconds));
      const wait = retryAfterSeconds < 120 ? `${retryAfterSeconds} s` : `${Math.ceil(retryAfterSeconds / 60)} min`;
      throw new AppError('TOO_MANY_ATTEMPTS', `too many failed logins for this username from this address; try again in ${wait}`, { retryAfterSeconds });
    }
    const user = await findUserByUsername(this.ctx.dataSource, username);
    const ok = await verifyPassword(user?.passwordHash ?? DUMMY_PASSWORD_HASH, password);
    if (user === undefined || !ok) {
      await this.throttle.recordFailure(username, address);
      await this.audit.transaction((tx) => this.audit.append(tx, { actor: 'anonymous', action: 'auth.login_failed', subject: `username:${username}` }));
      throw new AppError('AUTH_INVALID_CREDENTIALS', 'wrong username or password');
    }
    await this.throttle.clear(username, address);
    return user;
  }
}
