import type { Response } from 'express';
import type { LoginBody } from '#libs/contracts';
import type { AuditWriter } from '../audit/audit-writer.js';
import type { GatewayContext } from '../gateway-context.js';
import { AppError } from '../http/app-error.js';
import { findUserByUsername, type UserRow } from '../users/accounts.repository.js';
import { addressPrefix, LOGIN_QUEUE, LOGINS_AT_ONCE, PASSWORD_BUSY_RETRY_AFTER_SECONDS, Semaphore, SemaphoreFullError } from '../http/load-caps.js';
import { LoginThrottle } from './login-throttle.js';
import type { UnknownLoginTally } from './unknown-login-tally.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './secrets.js';

/**
 * Proves a user by username and password. Enforces, in this order (docs/adr/0007, 0016):
 * - an attempt past any throttle budget (the username and address pair, the address's
 *   network, everyone) is refused with 429 and `Retry-After`, before the user lookup
 *   and the argon2 hash, so a refused attempt costs no hash time and writes no audit
 *   entry (a warning is logged, without the typed username);
 * - first of all, a login waits its turn among LOGINS_AT_ONCE; past LOGIN_QUEUE waiting,
 *   503 BUSY at once, before any database work;
 * - the hash waits its turn among PASSWORD_HASHES_AT_ONCE; past the queue, 503 BUSY;
 * - an unknown username costs the same hash as a known one (`DUMMY_PASSWORD_HASH`),
 *   and answers the same 401 as a wrong password;
 * - each failure counts against every budget; a wrong password for a user who exists
 *   is audited (`auth.login_failed`, naming the user), one for a username that names
 *   nobody only counted (`UnknownLoginTally`): what was typed is not written anywhere;
 * - a success clears the pair's count.
 * Whether the account may have a session is `SessionService.startSession`'s call.
 */
/** Logins in flight in this process (load-caps.ts): a spray past the queue is refused before any database work. */
const logins = new Semaphore(LOGINS_AT_ONCE, LOGIN_QUEUE);

/** Whether a login now would be refused BUSY: `bulkPacing` refuses it before anything else runs. */
export function loginQueueFull(): boolean {
  return logins.full;
}

export class PasswordLogin {
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly audit: AuditWriter,
    private readonly unknown: UnknownLoginTally,
  ) {
    this.throttle = new LoginThrottle(ctx.dataSource, ctx.masterKey);
  }

  /** The user these credentials prove; `res` gives the client address and takes `Retry-After`. */
  async verify(credentials: LoginBody, res: Response): Promise<UserRow> {
    try {
      return await logins.run(() => this.check(credentials, res));
    } catch (error) {
      // No log line per refusal: under a spray that would be the costliest part of it.
      if (!(error instanceof SemaphoreFullError)) throw error;
      throw new AppError('BUSY', 'too many logins are waiting; try again shortly', { retryAfterSeconds: PASSWORD_BUSY_RETRY_AFTER_SECONDS });
    }
  }

  private async check(credentials: LoginBody, res: Response): Promise<UserRow> {
    const { username, password } = credentials;
    const address = res.req.ip ?? 'unknown';
    const refusal = await this.throttle.refusal(username, address);
    if (refusal !== undefined) {
      const { scope, retryAfterSeconds } = refusal;
      this.ctx.log.warn({ address, scope }, 'login refused: too many failed attempts');
      res.setHeader('Retry-After', String(retryAfterSeconds));
      const wait = retryAfterSeconds < 120 ? `${retryAfterSeconds} s` : `${Math.ceil(retryAfterSeconds / 60)} min`;
      const what = scope === 'account' ? 'for this username from this address' : scope === 'network' ? 'from this network' : 'on this gateway';
      throw new AppError('TOO_MANY_ATTEMPTS', `too many failed logins ${what}; try again in ${wait}`, { retryAfterSeconds, scope });
    }
    const user = await findUserByUsername(this.ctx.dataSource, username);
    const ok = await verifyPassword(user?.passwordHash ?? DUMMY_PASSWORD_HASH, password);
    if (user === undefined || !ok) {
      await this.throttle.recordFailure(username, address);
      if (user === undefined) this.unknown.record(addressPrefix(address));
      else await this.audit.transaction((tx) => this.audit.append(tx, { actor: 'anonymous', action: 'auth.login_failed', subject: `username:${user.username}` }));
      throw new AppError('AUTH_INVALID_CREDENTIALS', 'wrong username or password');
    }
    await this.throttle.clear(username, address);
    return user;
  }
}
