import { createHmac, hkdfSync } from 'node:crypto';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import { addressPrefix } from '../http/load-caps.js';

/** Failed logins allowed per username and client address in one window. */
export const LOGIN_FAILURES_ALLOWED = 10;
export const LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60;
/** Failed logins allowed from one network (/24 IPv4, /64 IPv6) in one window, whatever the usernames. */
export const NETWORK_LOGIN_FAILURES_ALLOWED = 100;
export const NETWORK_LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60;
/** Failed logins allowed in all, on every replica together, in one (short) window. */
export const GLOBAL_LOGIN_FAILURES_ALLOWED = 1000;
export const GLOBAL_LOGIN_FAILURE_WINDOW_SECONDS = 60;

/** Which budget a refused login spent. */
export type ThrottleScope = 'account' | 'network' | 'global';

export interface ThrottleRefusal {
  scope: ThrottleScope;
  retryAfterSeconds: number;
}

/**
 * Slows password guessing (docs/adr/0007, docs/adr/0016). Three budgets of failures,
 * each counted in the database so that every replica sees the same count:
 * - per (username, client address): after LOGIN_FAILURES_ALLOWED failures that pair is
 *   refused until its window ends, even with the right password (else a guesser would
 *   learn it by succeeding); keyed by the pair, so a guesser elsewhere cannot lock a
 *   person out of their own login;
 * - per client network (the address's /24 or /64): a spray of many usernames from one
 *   network (or one host that has many addresses) stops after NETWORK_LOGIN_FAILURES_ALLOWED;
 * - in all: a spray from many networks stops after GLOBAL_LOGIN_FAILURES_ALLOWED in
 *   one minute; logins (not the approvals of people already signed in) then wait for
 *   the minute to end.
 */
export class LoginThrottle {
  private readonly pairs: RateLimiterPostgres;
  private readonly networks: RateLimiterPostgres;
  private readonly everyone: RateLimiterPostgres;

  private readonly keyOf: (username: string, address: string) => string;

  /** `masterKey`: the pair's key is a keyed hash of the username, so that what someone typed is not stored (it may be a password). */
  constructor(dataSource: DataSource, masterKey: Uint8Array) {
    const hmacKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'quorumgate login-throttle username', 32));
    this.keyOf = (username, address) => `${createHmac('sha256', hmacKey).update(username.toLowerCase()).digest('base64url')}|${address}`;
    const limiter = (keyPrefix: string, points: number, duration: number) =>
      new RateLimiterPostgres({ storeClient: dataSource, storeType: 'typeorm', tableName: 'login_failures', tableCreated: true, keyPrefix, points, duration });
    this.pairs = limiter('login', LOGIN_FAILURES_ALLOWED, LOGIN_FAILURE_WINDOW_SECONDS);
    this.networks = limiter('login_net', NETWORK_LOGIN_FAILURES_ALLOWED, NETWORK_LOGIN_FAILURE_WINDOW_SECONDS);
    this.everyone = limiter('login_all', GLOBAL_LOGIN_FAILURES_ALLOWED, GLOBAL_LOGIN_FAILURE_WINDOW_SECONDS);
  }

  /** Seconds until this pair may try again, or undefined when it may now (the pair's budget only). */
  async retryAfterSeconds(username: string, address: string): Promise<number | undefined> {
    return spent(await this.pairs.get(this.keyOf(username, address)), LOGIN_FAILURES_ALLOWED);
  }

  /** The first budget this attempt would exceed, or undefined when it may go on. */
  async refusal(username: string, address: string): Promise<ThrottleRefusal | undefined> {
    const [pair, network, all] = await Promise.all([this.pairs.get(this.keyOf(username, address)), this.networks.get(addressPrefix(address)), this.everyone.get('all')]);
    const checks: [ThrottleScope, number | undefined][] = [
      ['account', spent(pair, LOGIN_FAILURES_ALLOWED)],
      ['network', spent(network, NETWORK_LOGIN_FAILURES_ALLOWED)],
      ['global', spent(all, GLOBAL_LOGIN_FAILURES_ALLOWED)],
    ];
    for (const [scope, retryAfterSeconds] of checks) if (retryAfterSeconds !== undefined) return { scope, retryAfterSeconds };
    return undefined;
  }

  async recordFailure(username: string, address: string): Promise<void> {
    await Promise.all([this.pairs.penalty(this.keyOf(username, address)), this.networks.penalty(addressPrefix(address)), this.everyone.penalty('all')]);
  }

  /** A success forgets the pair's failures; the network's and everyone's stay counted. */
  async clear(username: string, address: string): Promise<void> {
    await this.pairs.delete(this.keyOf(username, address));
  }
}

function spent(state: { consumedPoints: number; msBeforeNext: number } | null, allowed: number): number | undefined {
  if (state === null || state.consumedPoints < allowed) return undefined;
  return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
}
