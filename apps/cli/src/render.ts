import { createHash } from 'node:crypto';
import { isRecord } from './api-client.js';
import { assertUnreachable, isOperationKind, type OperationKind, type RequestView } from './api-types.js';

/**
 * Makes text from the gateway safe to print on a terminal: control characters
 * (ANSI escapes, carriage returns that overwrite a line), C1 controls, zero-width
 * and bidirectional overrides become visible `\u{…}` escapes, so that what a
 * custodian reads is what they sign. Newlines and tabs stay unless `singleLine`.
 */
export function safeText(text: string, singleLine = false): string {
  const pattern = singleLine
    ? /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu
    : /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;
  return text.replace(pattern, (c) => `\\u{${c.codePointAt(0)?.toString(16) ?? ''}}`);
}

/** JSON, pretty, with the same escaping as `safeText` for what JSON.stringify leaves raw. */
export function safeJson(value: unknown): string {
  return safeText(JSON.stringify(value, null, 2) ?? 'undefined');
}

export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A duration in seconds as `1h 02m`, `4m 05s` or `12s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

export function timeLeft(expiresAt: string, now = Date.now()): string {
  const seconds = (Date.parse(expiresAt) - now) / 1000;
  return seconds <= 0 ? 'expired' : `expires in ${formatDuration(seconds)}`;
}

function describePayload(b64u: unknown): string[] {
  if (typeof b64u !== 'string') return [`  payload:   (not a string: ${safeJson(b64u)})`];
  const bytes = Buffer.from(b64u, 'base64url');
  const lines = [`  payload:   ${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')}`];
  const text = bytes.toString('utf8');
  const printable = Buffer.from(text, 'utf8').equals(bytes) && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text);
  if (printable) {
    const shown = text.length > 2000 ? `${text.slice(0, 2000)}… (${text.length - 2000} more characters)` : text;
    lines.push(`  as text:   ${safeText(shown).replace(/\n/g, '\n             ')}`);
  } else {
    const hex = bytes.subarray(0, 64).toString('hex');
    lines.push(`  as hex:    ${hex}${bytes.length > 64 ? '…' : ''}`);
  }
  return lines;
}

/**
 * What the operation will do, in words, then its exact parameters. The kind is
 * as received: one this qg version does not know gets only its parameters.
 */
export function describeOperation(operation: { kind: string; params: Record<string, unknown> }): string {
  const p = operation.params;
  const lines = isOperationKind(operation.kind)
    ? describeKnownOperation(operation.kind, p)
    : [`  ${safeText(operation.kind, true)} (unknown to this qg version: read the parameters)`];
  lines.push(`  params:    ${safeJson(p).replace(/\n/g, '\n             ')}`);
  return lines.join('\n');
}

function describeKnownOperation(kind: OperationKind, p: Record<string, unknown>): string[] {
  const str = (v: unknown) => (typeof v === 'string' ? safeText(v, true) : safeJson(v));
  const lines: string[] = [];
  switch (kind) {
    case 'sign':
      lines.push(`  SIGN with the credential's private key (format ${str(p.format ?? 'raw')}${p.alg !== undefined ? `, alg ${str(p.alg)}` : ''})`);
      lines.push(...describePayload(p.payload));
      break;
    case 'http':
      lines.push(`  HTTP ${str(p.method)} ${str(p.path)}`);
      if (isRecord(p.headers)) for (const [k, v] of Object.entries(p.headers)) lines.push(`  header:    ${safeText(k, true)}: ${str(v)}`);
      if (p.body !== undefined) lines.push(`  body:      ${typeof p.body === 'string' ? safeText(p.body).replace(/\n/g, '\n             ') : safeJson(p.body)}`);
      break;
    case 'kubernetes.exec':
      lines.push(`  KUBERNETES EXEC in namespace ${str(p.namespace)}, pod ${str(p.pod)}${p.container !== undefined ? `, container ${str(p.container)}` : ''}`);
      lines.push(`  command:   ${Array.isArray(p.command) ? p.command.map((a) => safeText(shellQuote(String(a)), true)).join(' ') : safeJson(p.command)}`);
      break;
    case 'ssh.exec':
      lines.push(`  SSH EXEC on the credential’s host${Array.isArray(p.command) ? ' (argv, each argument quoted by the gateway)' : ' (a line the remote shell interprets)'}`);
      lines.push(`  command:   ${Array.isArray(p.command) ? p.command.map((a) => safeText(shellQuote(String(a)), true)).join(' ') : str(p.command)}`);
      break;
    case 'sql.exec':
      lines.push(`  SQL (${p.readOnly === false ? 'READ-WRITE' : 'read-only'} transaction)`);
      lines.push(`  sql:       ${typeof p.sql === 'string' ? safeText(p.sql).replace(/\n/g, '\n             ') : safeJson(p.sql)}`);
      break;
    case 'reveal':
      lines.push('  REVEAL: the secret itself goes to the requester (break-glass)');
      break;
    case 'credential.reshare':
      lines.push('  CUSTODY: re-share the credential to the structure in params (a new version)');
      break;
    case 'credential.rotate':
      lines.push('  CUSTODY: rotate the credential (new secret and/or config, a new version)');
      break;
    default:
      return assertUnreachable(kind, 'operation kind');
  }
  return lines;
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/**
 * Names for the ids in a request, from what its response carries (custodians',
 * approvers' and the requester's names), escaped for the terminal; short ids
 * for the others.
 */
export function namesOf(view: RequestView): (id: string) => string {
  const names = new Map<string, string>();
  const add = (id: string, name: unknown) => {
    if (typeof name === 'string' && name !== '') names.set(id, safeText(name, true));
  };
  for (const [id, name] of Object.entries(view.names ?? {})) add(id, name);
  for (const a of view.approvals) add(a.userId, a.username);
  add(view.requester.id, view.requester.name);
  return (id) => names.get(id) ?? shortId(id);
}

/** The approvals so far, e.g. `2 of 3 (alice, bob)` and rejections; for a grouped credential, each group's progress after it. */
export function describeApprovals(view: RequestView, nameOf: (id: string) => string = namesOf(view)): string {
  const approvers = view.approvals.filter((a) => a.decision === 'approve' && a.valid).map((a) => nameOf(a.userId));
  const rejecters = view.approvals.filter((a) => a.decision === 'reject').map((a) => nameOf(a.userId));
  let text = `${view.approvalsReceived} of ${view.approvalsRequired}`;
  if (approvers.length > 0) text += ` (${approvers.join(', ')})`;
  if (rejecters.length > 0) text += `, rejected by ${rejecters.join(', ')}`;
  const groups = describeGroups(view, nameOf);
  if (groups !== undefined) text += ` · ${groups}`;
  return text;
}

/**
 * Each sharing group's progress (spec §3a), e.g. `sre 2 of 2 ✓ · security 0 of 1 (needs erin)`;
 * undefined for a credential of one group, whose progress is the count itself.
 */
export function describeGroups(view: RequestView, nameOf: (id: string) => string = namesOf(view)): string | undefined {
  const groups = view.sharingProgress ?? [];
  if (groups.length < 2) return undefined;
  return groups
    .map((g) => {
      const head = `${safeText(g.name, true)} ${Math.min(g.approved, g.threshold)} of ${g.threshold}`;
      if (g.approved >= g.threshold) return `${head} ✓`;
      const who = g.missing.map(nameOf);
      return `${head} (needs ${g.threshold - g.approved} of ${who.join(', ')})`;
    })
    .join(' · ');
}

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}
