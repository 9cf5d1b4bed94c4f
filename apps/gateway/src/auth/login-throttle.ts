import { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';

/** Failed logins allowed per username and client address in one window. */
export const LOGIN_FAILURES_ALLOWED = 10;
export const LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60;

/**
 * Slows password guessing: after LOGIN_FAILURES_ALLOWED failures for one
 * username from one address, that pair is refused until its window ends, even
 * with the right password (else a guesser would learn it by succeeding).
 * Counted in the database, so every replica sees the same count. Keyed by the
 * pair, not the username alone, so that a guesser elsewhere cannot lock a
 * person out of their own login.
 */
export class LoginThrottle {
  private readonly failures: RateLimiterPostgres;

  constructor(dataSource: DataSource) {
    this.failures = new RateLimiterPostgres({
      storeClient: dataSource,
      storeType: 'typeorm',
      tableName: 'login_failures',
      tableCreated: true,
      keyPrefix: 'login',
      points: LOGIN_FAILURES_ALLOWED,
      duration: LOGIN_FAILURE_WINDOW_SECONDS,
    });
  }

  /** Seconds until this pair may try again, or undefined when it may now. */
  async retryAfterSeconds(username: string, address: string): Promise<number | undefined> {
    const state = await this.failures.get(keyOf(username, address));
    if (state === null || state.consumedPoints < LOGIN_FAILURES_ALLOWED) return undefined;
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }

  async recordFailure(username: string, address: string): Promise<void> {
    await this.failures.penalty(keyOf(username, address));
  }

  async clear(username: string, address: string): Promise<void> {
    await this.failures.delete(keyOf(username, address));
  }
}

function keyOf(username: string, address: string): string {
  return `${username.toLowerCase()}|${address}`;
}
