/**
 * What a custodian is shown before approving a custody operation (spec §4a, issue 16
 * item 3): a re-share as per-group old → new thresholds and sizes, who is added and
 * removed (names and key fingerprints), and a warning on any weakening; a rotation as
 * a config diff and what happens to the secret. Pure: the web UI and the CLI render
 * the same review from the same input.
 */

/** A custodian of the credential's current version, as the reviewer's client knows them. */
export interface ReviewCustodian {
  userId: string;
  username: string;
  /** the thumbprint of the key their current share is sealed to (or of their enrolled key, when that is all the client knows) */
  kid: string | null;
  /** from GET /credentials/:id/health; absent when unknown */
  live?: boolean;
}

/** One sharing group of the current version (the flat form is one group named `custodians`). */
export interface ReviewGroup {
  name: string;
  threshold: number;
  custodians: ReviewCustodian[];
}

/** A person named in a proposal: their name and the thumbprint of the encryption key enrolled now (null: none; undefined: the viewer cannot tell, so it is not checked). */
export interface ReviewPerson {
  username: string;
  kid?: string | null;
}

export interface ReshareReviewInput {
  current: ReviewGroup[];
  /** `params.sharing` of the `credential.reshare` request, as sent (unchecked) */
  proposed: unknown;
  /** who a user id is; undefined for an id nobody knows */
  person: (userId: string) => ReviewPerson | undefined;
  requesterId: string;
  /**
   * false when the viewer cannot list every user (an operator sees only the names a
   * request carries): a person `person` does not know is then not warned about as unknown.
   * Default true.
   */
  directoryComplete?: boolean;
}

export interface ReviewedCustodian {
  userId: string;
  username: string;
  kid: string | null;
  /** the kid shortened for people to compare (`fingerprint`) */
  fingerprint: string;
}

export interface GroupReview {
  name: string;
  /** null: the group does not exist on that side */
  old: { threshold: number; size: number } | null;
  new: { threshold: number; size: number } | null;
  added: ReviewedCustodian[];
  removed: ReviewedCustodian[];
  /** kept, but their new share goes to a different key than the one their share is sealed to now */
  rekeyed: (ReviewedCustodian & { oldFingerprint: string })[];
  kept: ReviewedCustodian[];
}

export const REVIEW_WARNING_CODES = [
  'proposal_invalid',
  'threshold_lowered',
  'total_threshold_lowered',
  'fewer_custodians',
  'fewer_groups',
  'group_removed',
  'one_person_meets_group',
  'requester_meets_group',
  'person_holds_several_shares',
  'threshold_above_size',
  'unknown_custodian',
  'key_not_enrolled_key',
  'destination_changed',
  'config_changed',
] as const;
export type ReviewWarningCode = (typeof REVIEW_WARNING_CODES)[number];

export interface ReviewWarning {
  code: ReviewWarningCode;
  /** the group concerned, if any */
  group?: string;
  message: string;
}

export interface ReshareReview {
  kind: 'credential.reshare';
  groups: GroupReview[];
  totals: { old: { threshold: number; custodians: number; groups: number }; new: { threshold: number; custodians: number; groups: number } };
  /** the same people, groups and thresholds: a proactive refresh */
  refresh: boolean;
  warnings: ReviewWarning[];
}

export interface ConfigChange {
  key: string;
  from?: unknown;
  to?: unknown;
}

export interface RotateReview {
  kind: 'credential.rotate';
  /** `sealed`: a new secret sealed to an intake key; `generated`: a new key pair made inside the gateway */
  secret: 'unchanged' | 'sealed' | 'generated';
  generateAlg?: string;
  config: { changed: boolean; added: ConfigChange[]; removed: ConfigChange[]; modified: ConfigChange[] } | null;
  warnings: ReviewWarning[];
}

/** Config members that decide where the secret is sent or whom it trusts: a change sends the secret elsewhere. */
export const DESTINATION_CONFIG_KEYS = ['baseUrl', 'host', 'port', 'scheme', 'caCertificate', 'hostKeySha256', 'context', 'database', 'ssl'] as const;

interface ProposedCustodian {
  userId: string;
  kid: string | null;
}
interface ProposedGroup {
  name: string;
  threshold: number;
  custodians: ProposedCustodian[];
}

/**
 * A key thumbprint shortened for people to compare: its first 16 characters in groups of four.
 *
 * @example fingerprint('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs') // 'NzbL-sXh8-uDCc-d-6M'
 */
export function fingerprint(kid: string | null | undefined): string {
  if (kid === null || kid === undefined || kid === '') return '(no key)';
  return (kid.slice(0, 16).match(/.{1,4}/g) ?? []).join('-');
}

/** `sharing` of a reshare as groups (the flat form is one group named `custodians`); undefined when it is neither form. */
function proposedGroups(sharing: unknown): ProposedGroup[] | undefined {
  if (typeof sharing !== 'object' || sharing === null) return undefined;
  const s = sharing as Record<string, unknown>;
  const custodiansOf = (list: unknown): ProposedCustodian[] | undefined => {
    if (!Array.isArray(list)) return undefined;
    const out: ProposedCustodian[] = [];
    for (const c of list as unknown[]) {
      if (typeof c === 'string') out.push({ userId: c, kid: null });
      else if (typeof c === 'object' && c !== null && typeof (c as Record<string, unknown>).userId === 'string') {
        const kid = (c as Record<string, unknown>).kid;
        out.push({ userId: (c as { userId: string }).userId, kid: typeof kid === 'string' ? kid : null });
      } else return undefined;
    }
    return out;
  };
  if (Array.isArray(s.groups)) {
    const groups: ProposedGroup[] = [];
    for (const [i, g] of (s.groups as unknown[]).entries()) {
      if (typeof g !== 'object' || g === null) return undefined;
      const group = g as Record<string, unknown>;
      const custodians = custodiansOf(group.custodians);
      if (custodians === undefined || typeof group.threshold !== 'number') return undefined;
      groups.push({ name: typeof group.name === 'string' ? group.name : `group ${i + 1}`, threshold: group.threshold, custodians });
    }
    return groups;
  }
  const custodians = custodiansOf(s.custodians);
  if (custodians === undefined || typeof s.threshold !== 'number') return undefined;
  return [{ name: 'custodians', threshold: s.threshold, custodians }];
}

/**
 * Reviews a `credential.reshare` proposal against the current structure. Groups are
 * matched by name; a one-group credential's group continues as the first new group. Every weakening is a warning: a lower threshold in a group or in total,
 * fewer custodians or groups, a group one person (or the requester) can meet alone,
 * one person named more than once, a threshold above the group's size, a custodian
 * nobody knows, or a share going to a key other than the one the person enrolled.
 *
 * @example
 * const review = reviewReshare({ current, proposed: request.operation.params.sharing, person: (id) => people.get(id), requesterId });
 * if (review.warnings.length > 0) showLoudly(review.warnings);
 */
export function reviewReshare(input: ReshareReviewInput): ReshareReview {
  const warnings: ReviewWarning[] = [];
  const proposed = proposedGroups(input.proposed);
  const current = input.current;
  const oldTotals = { threshold: sum(current.map((g) => g.threshold)), custodians: sum(current.map((g) => g.custodians.length)), groups: current.length };
  if (proposed === undefined) {
    warnings.push({ code: 'proposal_invalid', message: 'the proposed sharing is neither {threshold, custodians} nor {groups}: do not approve' });
    return { kind: 'credential.reshare', groups: [], totals: { old: oldTotals, new: { threshold: 0, custodians: 0, groups: 0 } }, refresh: false, warnings };
  }
  const nameOf = (userId: string, known?: string): string => input.person(userId)?.username ?? known ?? `unknown user ${userId}`;
  const reviewed = (userId: string, kid: string | null, known?: string): ReviewedCustodian => ({ userId, username: nameOf(userId, known), kid, fingerprint: fingerprint(kid) });

  // Pair each proposed group with a current one: same name, else the only group with the only group.
  const pairs: { old?: ReviewGroup; next?: ProposedGroup }[] = [];
  const unmatchedOld = new Set(current);
  for (const next of proposed) {
    const old = current.find((g) => g.name === next.name && unmatchedOld.has(g));
    if (old !== undefined) unmatchedOld.delete(old);
    pairs.push({ old, next });
  }
  // A one-group credential re-shared under other group names: its group continues as the first new one.
  const first = pairs[0];
  if (current.length === 1 && unmatchedOld.size === 1 && first !== undefined && first.old === undefined) {
    first.old = current[0];
    unmatchedOld.clear();
  }
  for (const old of unmatchedOld) pairs.push({ old });

  const everyoneOld = new Map(current.flatMap((g) => g.custodians.map((c) => [c.userId, c] as const)));
  const groups: GroupReview[] = [];
  for (const { old, next } of pairs) {
    const name = next?.name ?? old?.name ?? '';
    const oldIds = new Map((old?.custodians ?? []).map((c) => [c.userId, c]));
    const newIds = new Map((next?.custodians ?? []).map((c) => [c.userId, c]));
    const review: GroupReview = {
      name,
      old: old === undefined ? null : { threshold: old.threshold, size: old.custodians.length },
      new: next === undefined ? null : { threshold: next.threshold, size: next.custodians.length },
      added: [],
      removed: [],
      rekeyed: [],
      kept: [],
    };
    for (const c of next?.custodians ?? []) {
      const before = oldIds.get(c.userId);
      const shown = reviewed(c.userId, c.kid, everyoneOld.get(c.userId)?.username);
      if (before === undefined) review.added.push(shown);
      else if (before.kid !== null && c.kid !== before.kid) review.rekeyed.push({ ...shown, oldFingerprint: fingerprint(before.kid) });
      else review.kept.push(shown);
    }
    for (const c of old?.custodians ?? []) if (!newIds.has(c.userId)) review.removed.push(reviewed(c.userId, c.kid, c.username));
    groups.push(review);
    warnings.push(...groupWarnings(review, next, input));
  }

  const newTotals = { threshold: sum(proposed.map((g) => g.threshold)), custodians: sum(proposed.map((g) => g.custodians.length)), groups: proposed.length };
  if (newTotals.threshold < oldTotals.threshold) {
    warnings.push({ code: 'total_threshold_lowered', message: `fewer approvals rebuild the credential: ${oldTotals.threshold} → ${newTotals.threshold} in total` });
  }
  if (newTotals.custodians < oldTotals.custodians) {
    warnings.push({ code: 'fewer_custodians', message: `fewer custodians: ${oldTotals.custodians} → ${newTotals.custodians}; fewer departures lose the credential` });
  }
  if (newTotals.groups < oldTotals.groups) {
    warnings.push({ code: 'fewer_groups', message: `fewer sharing groups: ${oldTotals.groups} → ${newTotals.groups}; a group whose approval was needed no longer is` });
  }
  const refresh =
    warnings.length === 0 && groups.every((g) => g.added.length === 0 && g.removed.length === 0 && g.rekeyed.length === 0 && g.old?.threshold === g.new?.threshold);
  return { kind: 'credential.reshare', groups, totals: { old: oldTotals, new: newTotals }, refresh, warnings };
}

function groupWarnings(review: GroupReview, next: ProposedGroup | undefined, input: ReshareReviewInput): ReviewWarning[] {
  const group = review.name;
  const out: ReviewWarning[] = [];
  if (next === undefined) {
    out.push({ code: 'group_removed', group, message: `group "${group}" is removed: its approval is no longer needed` });
    return out;
  }
  const t = next.threshold;
  const size = next.custodians.length;
  if (review.old !== null && t < review.old.threshold) {
    out.push({ code: 'threshold_lowered', group, message: `group "${group}": threshold lowered ${review.old.threshold} → ${t}` });
  }
  if (review.old !== null && size < review.old.size) {
    out.push({ code: 'fewer_custodians', group, message: `group "${group}": fewer custodians ${review.old.size} → ${size}` });
  }
  if (!Number.isInteger(t) || t > size || t < 1) {
    out.push({ code: 'threshold_above_size', group, message: `group "${group}": threshold ${t} cannot be met by ${size} custodian(s)` });
  }
  const counts = new Map<string, number>();
  for (const c of next.custodians) counts.set(c.userId, (counts.get(c.userId) ?? 0) + 1);
  for (const [userId, n] of counts) {
    if (n > 1) out.push({ code: 'person_holds_several_shares', group, message: `group "${group}": ${nameIn(input, userId)} is named ${n} times and would hold ${n} shares` });
  }
  // One person can meet the group alone: a threshold of 1, or one person holding as many shares as the threshold.
  const alone = [...counts].filter(([, n]) => t >= 1 && n >= t).map(([userId]) => userId);
  if (alone.length > 0) {
    const requesterAlone = alone.includes(input.requesterId);
    if (requesterAlone) {
      out.push({ code: 'requester_meets_group', group, message: `group "${group}": the requester (${nameIn(input, input.requesterId)}) alone can meet this group` });
    }
    const others = alone.filter((id) => id !== input.requesterId);
    if (others.length > 0) {
      out.push({
        code: 'one_person_meets_group',
        group,
        message: `group "${group}": one person alone can meet this group (threshold ${t}): ${others.map((id) => nameIn(input, id)).join(', ')}`,
      });
    }
  }
  for (const c of next.custodians) {
    const person = input.person(c.userId);
    if (person === undefined) {
      if (input.directoryComplete !== false) out.push({ code: 'unknown_custodian', group, message: `group "${group}": user ${c.userId} is not known to this gateway` });
    } else if (person.kid !== undefined && (person.kid === null || person.kid !== c.kid)) {
      out.push({
        code: 'key_not_enrolled_key',
        group,
        message: `group "${group}": ${person.username}'s share would be sealed to key ${fingerprint(c.kid)}, not to the key they enrolled (${fingerprint(person.kid)})`,
      });
    }
  }
  return out;
}

function nameIn(input: ReshareReviewInput, userId: string): string {
  return input.person(userId)?.username ?? input.current.flatMap((g) => g.custodians).find((c) => c.userId === userId)?.username ?? `user ${userId}`;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export interface RotateReviewInput {
  currentConfig: Record<string, unknown>;
  /** `params` of the `credential.rotate` request, as sent (unchecked) */
  params: unknown;
}

/**
 * Reviews a `credential.rotate` proposal: whether the secret changes (sealed to an
 * intake key, or generated in the gateway) and the config diff by top-level member.
 * A changed destination member (`DESTINATION_CONFIG_KEYS`: base URL, host, port, CA …)
 * is a loud warning: the secret will be sent to, or trust, somewhere else.
 *
 * @example
 * const review = reviewRotate({ currentConfig: credential.config, params: request.operation.params });
 */
export function reviewRotate(input: RotateReviewInput): RotateReview {
  const warnings: ReviewWarning[] = [];
  const p = typeof input.params === 'object' && input.params !== null ? (input.params as Record<string, unknown>) : {};
  const generate = typeof p.generate === 'object' && p.generate !== null ? (p.generate as Record<string, unknown>) : undefined;
  const secret: RotateReview['secret'] = generate !== undefined ? 'generated' : typeof p.secret === 'string' ? 'sealed' : 'unchanged';
  if (generate !== undefined && p.secret !== undefined) {
    warnings.push({ code: 'proposal_invalid', message: 'the rotation names both a sealed secret and a generated key: do not approve' });
  }
  let config: RotateReview['config'] = null;
  if (p.config !== undefined) {
    if (typeof p.config !== 'object' || p.config === null || Array.isArray(p.config)) {
      warnings.push({ code: 'proposal_invalid', message: 'the proposed config is not an object: do not approve' });
    } else {
      config = diffConfig(input.currentConfig, p.config as Record<string, unknown>);
      const moved = [...config.added, ...config.removed, ...config.modified].filter((c) => (DESTINATION_CONFIG_KEYS as readonly string[]).includes(c.key));
      for (const c of moved) {
        warnings.push({
          code: 'destination_changed',
          message: `config "${c.key}" changes ${show(c.from)} → ${show(c.to)}: THE SECRET WILL BE SENT TO (OR TRUST) A DIFFERENT DESTINATION`,
        });
      }
      if (config.changed && moved.length === 0) warnings.push({ code: 'config_changed', message: 'the credential\'s config changes: check every line of the diff' });
    }
  }
  if (secret === 'unchanged' && config === null && !warnings.some((w) => w.code === 'proposal_invalid')) {
    warnings.push({ code: 'proposal_invalid', message: 'the rotation changes neither the secret nor the config' });
  }
  return { kind: 'credential.rotate', secret, ...(generate !== undefined && typeof generate.alg === 'string' ? { generateAlg: generate.alg } : {}), config, warnings };
}

function diffConfig(from: Record<string, unknown>, to: Record<string, unknown>): NonNullable<RotateReview['config']> {
  const added: ConfigChange[] = [];
  const removed: ConfigChange[] = [];
  const changed: ConfigChange[] = [];
  for (const key of Object.keys(to).sort()) {
    if (!(key in from)) added.push({ key, to: to[key] });
    else if (stable(from[key]) !== stable(to[key])) changed.push({ key, from: from[key], to: to[key] });
  }
  for (const key of Object.keys(from).sort()) if (!(key in to)) removed.push({ key, from: from[key] });
  return { changed: added.length + removed.length + changed.length > 0, added, removed, modified: changed };
}

/** JSON with sorted object keys, so member order is no change. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

function show(value: unknown): string {
  return value === undefined ? '(none)' : JSON.stringify(value);
}

/**
 * The review as plain lines of text (the CLI prints them; the web UI shows the same
 * facts as tables). Warnings come first, each prefixed `WARNING`.
 */
export function reviewLines(review: ReshareReview | RotateReview): string[] {
  const lines = review.warnings.map((w) => `WARNING ${w.message}`);
  if (review.kind === 'credential.rotate') {
    lines.push(
      review.secret === 'unchanged' ? 'secret: unchanged' : review.secret === 'generated' ? `secret: a new key pair generated in the gateway (${review.generateAlg ?? '?'})` : 'secret: a new secret, sealed to a one-time intake key',
    );
    if (review.config === null) lines.push('config: unchanged');
    else if (!review.config.changed) lines.push('config: re-sent unchanged');
    else {
      lines.push('config:');
      for (const c of review.config.added) lines.push(`  + ${c.key}: ${show(c.to)}`);
      for (const c of review.config.removed) lines.push(`  - ${c.key}: ${show(c.from)}`);
      for (const c of review.config.modified) lines.push(`  ~ ${c.key}: ${show(c.from)} → ${show(c.to)}`);
    }
    return lines;
  }
  const t = review.totals;
  lines.push(`total: threshold ${t.old.threshold} → ${t.new.threshold}, custodians ${t.old.custodians} → ${t.new.custodians}, groups ${t.old.groups} → ${t.new.groups}${review.refresh ? ' (a refresh: same people and thresholds, new shares)' : ''}`);
  const side = (s: { threshold: number; size: number } | null) => (s === null ? '(none)' : `${s.threshold} of ${s.size}`);
  for (const g of review.groups) {
    lines.push(`group "${g.name}": ${side(g.old)} → ${side(g.new)}`);
    for (const c of g.added) lines.push(`  + ${c.username}  key ${c.fingerprint}`);
    for (const c of g.removed) lines.push(`  - ${c.username}  key ${c.fingerprint}`);
    for (const c of g.rekeyed) lines.push(`  ~ ${c.username}  key ${c.oldFingerprint} → ${c.fingerprint}`);
    for (const c of g.kept) lines.push(`    ${c.username}  key ${c.fingerprint}`);
  }
  return lines;
}
