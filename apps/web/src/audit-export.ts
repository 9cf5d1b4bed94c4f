/**
 * Audit entries as files an auditor takes away: JSON lines (one entry per line, exactly as
 * the gateway sent it, so the hash chain can be re-verified from an unfiltered export) and
 * CSV (RFC 4180) for a spreadsheet. Only a type import: the unit test loads this file in Node.
 */
import type { AuditEntry } from '../../../libs/contracts/index.ts';

/** The fields of an audit entry the export writes. */
export type ExportedEntry = AuditEntry;

export const CSV_COLUMNS = ['seq', 'at', 'actor', 'actorName', 'action', 'subject', 'data', 'prevHash', 'hash'] as const;

/** One JSON object per line, each ending in a line feed; JSON.stringify escapes any line break inside. */
export function auditToJsonLines(entries: readonly ExportedEntry[]): string {
  return entries.map((e) => `${JSON.stringify({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, subject: e.subject, data: e.data, prevHash: e.prevHash, hash: e.hash })}\n`).join('');
}

/**
 * One CSV field: quoted when it holds a comma, quote or line break (quotes doubled). A field
 * that a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first) gets a
 * leading apostrophe: audit data carries text anyone could type, such as a request's reason.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A header row and one row per entry, CRLF line ends; `data` as compact JSON; `actorName` from `name` (empty if unknown). */
export function auditToCsv(entries: readonly ExportedEntry[], name: (actor: string) => string = () => ''): string {
  const rows = entries.map((e) => [String(e.seq), e.at, e.actor, name(e.actor), e.action, e.subject, JSON.stringify(e.data), e.prevHash, e.hash].map(csvField).join(','));
  return [CSV_COLUMNS.join(','), ...rows].map((r) => `${r}\r\n`).join('');
}
