import type { LivenessReason, Role } from '../contracts/index.js';

const DAY_MS = 24 * 3600 * 1000;

/** What the gateway knows of one custodian of the current version, read and MAC-checked by the caller. */
export interface CustodianFacts {
  userId: string;
  enabled: boolean;
  roles: readonly Role[];
  /** the key the share is sealed to is still the custodian's enrolled encryption key (false also when the keys fail their MAC) */
  keysUnchanged: boolean;
  /** the custodian's latest check-in on this version, or null */
  lastCheckInAt: Date | null;
  /** when the share was sealed: the check-in window runs from here until a first check-in */
  sealedAt: Date;
}

/** One sharing group (§3a); today's flat credentials are the single group `custodians`. */
export interface CustodyGroupFacts {
  name: string;
  threshold: number;
  custodians: readonly CustodianFacts[];
}

export interface CustodianLiveness {
  userId: string;
  live: boolean;
  reasons: LivenessReason[];
  /** when the check-in window closes (or closed) */
  checkInDueAt: Date;
}

export interface CustodyHealth {
  margin: number;
  groups: { name: string; threshold: number; live: number; custodians: CustodianLiveness[] }[];
}

/**
 * Whether one custodian counts (spec §4a): enabled, holding the operator role, with the
 * same key their share was sealed to, and checked in (or sealed to) within `checkInDays`
 * of `now`. `reasons` lists every condition that fails, in the spec's order.
 *
 * @example
 * custodianLiveness({ userId, enabled: true, roles: ['operator'], keysUnchanged: true, lastCheckInAt: null, sealedAt }, { checkInDays: 90, now });
 */
export function custodianLiveness(c: CustodianFacts, window: { checkInDays: number; now: Date }): CustodianLiveness {
  if (!Number.isSafeInteger(window.checkInDays) || window.checkInDays < 1) throw new TypeError('checkInDays must be a positive integer');
  const since = c.lastCheckInAt !== null && c.lastCheckInAt > c.sealedAt ? c.lastCheckInAt : c.sealedAt;
  const checkInDueAt = new Date(since.getTime() + window.checkInDays * DAY_MS);
  const reasons: LivenessReason[] = [];
  if (!c.enabled) reasons.push('disabled');
  if (!c.roles.includes('operator')) reasons.push('no_operator_role');
  if (!c.keysUnchanged) reasons.push('keys_changed');
  if (window.now.getTime() >= checkInDueAt.getTime()) reasons.push('check_in_overdue');
  return { userId: c.userId, live: reasons.length === 0, reasons, checkInDueAt };
}

/**
 * The credential's margin (spec §4a): the least over groups of live − threshold. Below 1,
 * one more departure from the tightest group loses the credential; below 0 it is lost
 * already unless a custodian comes back. The one place where groups are combined, so
 * grouped sharing (§3a) and a re-share change what goes in, not this rule.
 *
 * @example
 * quorumMargin([{ threshold: 2, live: 3 }]); // 1
 */
export function quorumMargin(groups: readonly { threshold: number; live: number }[]): number {
  if (groups.length === 0) throw new TypeError('a credential has at least one sharing group');
  return Math.min(...groups.map((g) => g.live - g.threshold));
}

/**
 * Every custodian's liveness, each group's live count and the margin.
 *
 * @example
 * const { margin } = assessCustody([{ name: 'custodians', threshold: 2, custodians }], { checkInDays: 90, now });
 */
export function assessCustody(groups: readonly CustodyGroupFacts[], window: { checkInDays: number; now: Date }): CustodyHealth {
  const assessed = groups.map((g) => {
    const custodians = g.custodians.map((c) => custodianLiveness(c, window));
    return { name: g.name, threshold: g.threshold, live: custodians.filter((c) => c.live).length, custodians };
  });
  return { margin: quorumMargin(assessed), groups: assessed };
}
