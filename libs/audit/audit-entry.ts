import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** `prevHash` of the first entry: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  seq: number;
  /** RFC 3339 UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
  at: string;
  actor: string;
  action: string;
  subject: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditEntryInput {
  at: string;
  actor: string;
  action: string;
  subject: string;
  data: Record<string, unknown>;
}

export const HASH_PATTERN = /^[0-9a-f]{64}$/;
export const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * hex SHA-256( UTF-8(prevHash) ‖ UTF-8(JCS({seq, at, actor, action, subject, data, prevHash})) ).
 * Only those seven fields are hashed, whatever else the object carries (a row id, `hash`).
 *
 * @example
 * computeEntryHash({ seq: 1, at: '2025-01-01T00:00:00.000Z', actor: 'u1', action: 'login',
 *   subject: 'user:u1', data: {}, prevHash: GENESIS_HASH }); // 64 hex characters
 */
export function computeEntryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, subject, data, prevHash } = entry;
  const canonical = canonicalize({ seq, at, actor, action, subject, data, prevHash });
  if (canonical === undefined) throw new TypeError('computeEntryHash: the entry is not JSON');
  return createHash('sha256').update(prevHash, 'utf8').update(canonical, 'utf8').digest('hex');
}

/**
 * Builds the entry that follows `previous` (`null`: the first entry, seq 1, genesis prevHash).
 * `data` is replaced by its canonical JSON copy, so the entry returned is exactly what was
 * hashed and what a JSON column gives back (no `undefined`, Dates as strings, no prototypes).
 *
 * @example
 * const first = chainEntry(null, { at: clock.now().toISOString(), actor: 'u1', action: 'request.create', subject: 'request:r1', data: {} });
 * const second = chainEntry(first, { ... });
 */
export function chainEntry(previous: { seq: number; hash: string } | null, input: AuditEntryInput): AuditEntry {
  if (previous !== null && (!Number.isSafeInteger(previous.seq) || previous.seq < 1 || !HASH_PATTERN.test(previous.hash))) {
    throw new TypeError('chainEntry: previous must be null or { seq ≥ 1, hash: 64 lower-case hex }');
  }
  const unhashed: Omit<AuditEntry, 'hash'> = {
    seq: previous === null ? 1 : previous.seq + 1,
    at: input.at,
    actor: input.actor,
    action: input.action,
    subject: input.subject,
    data: JSON.parse(canonicalEntryData(input)) as Record<string, unknown>,
    prevHash: previous === null ? GENESIS_HASH : previous.hash,
  };
  return { ...unhashed, hash: computeEntryHash(unhashed) };
}

/**
 * An entry's canonical JSON split around the two members that only the chain head
 * decides: JCS(entry without hash) = `head + prevHash + '","seq":' + seq + tail`
 * (JCS orders the members action, actor, at, data, prevHash, seq, subject), so that
 * the database can chain it under the head's lock in the statement that takes it:
 * hash = hex SHA-256(prevHash || head || prevHash || '","seq":' || seq || tail).
 * `data` is the canonical JSON of the entry's data.
 */
export function entryHashTemplate(input: AuditEntryInput): { head: string; tail: string; data: string } {
  const data = canonicalEntryData(input);
  const json = (value: string) => JSON.stringify(value);
  return {
    head: `{"action":${json(input.action)},"actor":${json(input.actor)},"at":${json(input.at)},"data":${data},"prevHash":"`,
    tail: `,"subject":${json(input.subject)}}`,
    data,
  };
}

function canonicalEntryData(input: AuditEntryInput): string {
  if (!isTimestamp(input.at)) throw new TypeError('chainEntry: at must be RFC 3339 UTC with milliseconds');
  for (const field of ['actor', 'action', 'subject'] as const) {
    if (typeof input[field] !== 'string') throw new TypeError(`chainEntry: ${field} must be a string`);
  }
  if (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data)) {
    throw new TypeError('chainEntry: data must be a JSON object');
  }
  try {
    return canonicalize(input.data) ?? '{}';
  } catch (cause) {
    throw new TypeError('chainEntry: data must be JSON (no BigInt, NaN, Infinity or cycles)', { cause });
  }
}

export function isTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !TIMESTAMP_PATTERN.test(value)) return false;
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString() === value;
}
