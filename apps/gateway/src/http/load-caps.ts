/**
 * Caps on what a caller can hold open or make the gateway compute, so that no
 * one (a buggy script, a password spray, a flood of dropped long polls) starves
 * the approval path (issue 15 item 5, docs/adr/0016-caps-and-hardening.md).
 * Plain classes with no framework: the Nest layer acquires, answers 429/503 with
 * `Retry-After` when refused, and releases when the connection ends.
 */

/** Server-sent event streams (GET /api/v1/events): per principal, and in all on this process. */
export const STREAMS_PER_PRINCIPAL = 4;
export const STREAMS_TOTAL = 500;
/** Long polls (GET /api/v1/requests/:id/wait): per principal, and in all on this process. */
export const WAITS_PER_PRINCIPAL = 16;
export const WAITS_TOTAL = 2000;
/** What a refused stream or long poll is told to wait before trying again. */
export const CAPPED_RETRY_AFTER_SECONDS = 5;

/** Password hashes (argon2id) computed at once; further ones queue, up to `PASSWORD_HASH_QUEUE`. */
export const PASSWORD_HASHES_AT_ONCE = 1;
export const PASSWORD_HASH_QUEUE = 32;
export const PASSWORD_BUSY_RETRY_AFTER_SECONDS = 2;
/**
 * Password logins handled at once (throttle reads, user lookup, hash, counting),
 * with `LOGIN_QUEUE` more waiting; past that, 503 BUSY before any database work, so
 * a spray costs the database nothing past what a few logins at a time cost.
 */
export const LOGINS_AT_ONCE = 2;
export const LOGIN_QUEUE = 32;

/** Counts open things per key and in all; `tryAcquire` refuses past either cap. */
export class ConcurrencyCap {
  private readonly open = new Map<string, number>();
  private total = 0;

  constructor(
    readonly perKey: number,
    readonly overall: number,
  ) {}

  /** A release function (idempotent), or undefined when `key` or everyone is at the cap. */
  tryAcquire(key: string): (() => void) | undefined {
    const mine = this.open.get(key) ?? 0;
    if (mine >= this.perKey || this.total >= this.overall) return undefined;
    this.open.set(key, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left === 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }

  get size(): number {
    return this.total;
  }

  countOf(key: string): number {
    return this.open.get(key) ?? 0;
  }
}

export class SemaphoreFullError extends Error {
  constructor() {
    super('too many waiting');
    this.name = 'SemaphoreFullError';
  }
}

/**
 * At most `permits` tasks run at once; up to `queueLimit` wait in order; past that,
 * `run` rejects at once with `SemaphoreFullError` (the caller answers 503 + Retry-After).
 */
export class Semaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly permits: number,
    readonly queueLimit: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.permits) {
      if (this.full) throw new SemaphoreFullError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The permit passes straight to the next in line, so `running` stays the same.
      if (next !== undefined) next();
      else this.running--;
    }
  }

  get active(): number {
    return this.running;
  }

  /** Whether `run` would now be refused: every permit taken and the queue full. */
  get full(): boolean {
    return this.running >= this.permits && this.waiting.length >= this.queueLimit;
  }

  get queued(): number {
    return this.waiting.length;
  }
}

/** The network a client address counts in for login throttling: its /24 (IPv4) or /64 (IPv6). */
export function addressPrefix(address: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/i.exec(address);
  if (v4 !== null) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (!address.includes(':')) return address;
  const groups = expandIpv6(address.split('%')[0] ?? address);
  if (groups === undefined) return address;
  return `${groups.slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] | undefined {
  const halves = address.toLowerCase().split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' || halves[0] === undefined ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' && halves[1] !== undefined ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => g.replace(/^0+(?=.)/, ''));
}

/**
 * Long polls and event streams a caller may drop (close before their answer) in a
 * burst, and how many more a second after that; the same for everyone together.
 * A caller that waits for its answers is never paced, however many it opens.
 */
export const DROPS_PER_KEY = { burst: 64, perSecond: 4 } as const;
export const DROPS_TOTAL = { burst: 256, perSecond: 32 } as const;
/** Calls held back at once by pacing, per caller and in all; past either, 429 at once. */
export const PACED_PER_KEY = 16;
export const PACED_TOTAL = 1024;
/**
 * How long a refusal of unauthenticated bulk work (a login past the queue, a paced
 * call past its cap) is held before it is sent. A timer costs no CPU; a client that
 * retries as soon as it is refused would otherwise make the refusals the load.
 */
export const REFUSAL_HOLD_MS = 250;
/** Refusals held at once; past this, they are sent at once and the connection closed. */
export const REFUSALS_HELD = 2048;

interface Budget {
  readonly burst: number;
  readonly perSecond: number;
}

/** A bucket below full: `tokens` as of `at` (ms). Full buckets are not kept. */
interface Debt {
  tokens: number;
  at: number;
}

/**
 * Paces callers that drop their long polls and streams (issue 15 item 5): a drop
 * spends a token of the caller's bucket and of everyone's; while either bucket is
 * below one token, that caller's next call waits (`waitMs`) until it refills.
 * Answered calls spend nothing. Debt stops at one burst below empty, so a caller who
 * stops dropping is let through again within (burst + 1) / perSecond seconds.
 * Only buckets below full are kept.
 */
export class DropPacing {
  private readonly debts = new Map<string, Debt>();
  private sweptAt = -Infinity;
  private static readonly EVERYONE = '';

  constructor(
    readonly perKey: Budget,
    readonly overall: Budget,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Milliseconds before a call of `key` may go on: 0 when it may now. */
  waitMs(key: string): number {
    const now = this.clock();
    return Math.max(this.shortfallMs(key, this.perKey, now), this.shortfallMs(DropPacing.EVERYONE, this.overall, now));
  }

  /** A call of `key` was dropped by its client before its answer. */
  recordDrop(key: string): void {
    const now = this.clock();
    this.spend(key, this.perKey, now);
    this.spend(DropPacing.EVERYONE, this.overall, now);
  }

  /** Callers (and everyone) currently below a full bucket. */
  get indebted(): number {
    return this.debts.size;
  }

  private tokens(key: string, budget: Budget, now: number): number {
    const debt = this.debts.get(key);
    if (debt === undefined) return budget.burst;
    const tokens = Math.min(budget.burst, debt.tokens + ((now - debt.at) * budget.perSecond) / 1000);
    if (tokens >= budget.burst) this.debts.delete(key);
    return tokens;
  }

  private shortfallMs(key: string, budget: Budget, now: number): number {
    const tokens = this.tokens(key, budget, now);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / budget.perSecond);
  }

  private spend(key: string, budget: Budget, now: number): void {
    if (this.debts.size >= MAX_DEBTS_KEPT && !this.debts.has(key)) this.makeRoom(now);
    this.debts.set(key, { tokens: Math.max(-budget.burst, this.tokens(key, budget, now) - 1), at: now });
  }

  /**
   * An attacker inventing keys must not grow the map without bound: forget the buckets
   * that have refilled (at most once a second), then the oldest debts. Everyone's
   * bucket still paces what a forgotten key does next.
   */
  private makeRoom(now: number): void {
    if (now - this.sweptAt >= 1000) {
      this.sweptAt = now;
      for (const key of [...this.debts.keys()]) this.tokens(key, key === DropPacing.EVERYONE ? this.overall : this.perKey, now);
    }
    for (const key of this.debts.keys()) {
      if (this.debts.size < MAX_DEBTS_KEPT) break;
      if (key !== DropPacing.EVERYONE) this.debts.delete(key);
    }
  }
}

const MAX_DEBTS_KEPT = 10_000;
