import type { Credential } from '#libs/contracts';
import { safeJson, safeText } from './render.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Group {
  name: string;
  threshold: number;
  custodians: { userId: string; kid?: string }[];
}

/** The groups a `credential.reshare`'s signed `sharing` names (flat form: one group `custodians`); undefined when unreadable. */
function newGroupsOf(sharing: unknown): Group[] | undefined {
  if (!isRecord(sharing)) return undefined;
  const custodians = (list: unknown) => (Array.isArray(list) ? list.filter(isRecord).map((c) => ({ userId: String(c['userId']), kid: String(c['kid']) })) : []);
  if (Array.isArray(sharing['groups'])) return sharing['groups'].filter(isRecord).map((g) => ({ name: String(g['name']), threshold: Number(g['threshold']), custodians: custodians(g['custodians']) }));
  return [{ name: 'custodians', threshold: Number(sharing['threshold']), custodians: custodians(sharing['custodians']) }];
}

/**
 * A custody request as a custodian must read it before approving (spec §4a): for a
 * re-share, each group's threshold and size old → new, who is added and removed,
 * every new custodian by name and the thumbprint of the key their share goes to; for
 * a rotation, what changes and the config old → new. Everything shown is escaped.
 * Kept apart from `render.ts` so a richer review (libs/custodian) can replace it.
 */
export function describeCustodyChange(kind: string, params: Record<string, unknown>, current: Credential | undefined, nameOf: (id: string) => string): string[] {
  const lines: string[] = [];
  const who = (id: string) => `${nameOf(id)}${nameOf(id) !== id ? ` (${safeText(id, true)})` : ''}`;
  if (kind === 'credential.reshare') {
    const groups = newGroupsOf(params['sharing']);
    lines.push('  RE-SHARE: the current custodians hand the credential to a new sharing structure (new version, old shares useless)');
    if (groups === undefined) return [...lines, '  !!! the new structure is unreadable: do not approve'];
    const oldGroups = current?.sharing.groups ?? [];
    groups.forEach((g, i) => {
      const old = oldGroups.find((o) => o.name === g.name) ?? oldGroups[i];
      const oldIds = new Set(old?.custodians.map((c) => c.userId) ?? []);
      const newIds = new Set(g.custodians.map((c) => c.userId));
      lines.push(`  group ${safeText(g.name, true)}: ${old !== undefined ? `${old.threshold} of ${old.custodians.length} → ` : '(new) '}${g.threshold} of ${g.custodians.length}`);
      for (const c of g.custodians) lines.push(`    ${oldIds.has(c.userId) ? ' ' : '+'} ${who(c.userId)}  key ${safeText(c.kid ?? '', true)}`);
      for (const id of oldIds) if (!newIds.has(id)) lines.push(`    - ${who(id)} (removed)`);
      if (old !== undefined && (g.threshold < old.threshold || g.custodians.length < old.custodians.length)) lines.push('    !!! WEAKER than before: lower threshold or fewer custodians');
      if (g.threshold === 1 && g.custodians.length > 1) lines.push('    !!! one person alone meets this group');
    });
    if (groups.length < oldGroups.length) lines.push(`  !!! fewer groups than before (${oldGroups.length} → ${groups.length})`);
    return lines;
  }
  lines.push('  ROTATE: a new version of the credential with the current custodians');
  if (typeof params['secret'] === 'string') lines.push('  secret:    a NEW secret, sealed by the requester to a one-time intake key');
  if (isRecord(params['generate'])) lines.push(`  secret:    a NEW key pair generated inside the gateway (${safeText(String(params['generate']['alg']), true)})`);
  if (params['secret'] === undefined && params['generate'] === undefined) lines.push('  secret:    unchanged (re-sealed under a new data key)');
  if (isRecord(params['config'])) {
    const before = current?.config ?? {};
    const after = params['config'];
    lines.push('  config:    CHANGES (a new host or URL sends the secret elsewhere)');
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      if (!(key in after)) lines.push(`    - ${safeText(key, true)}: ${safeJson(before[key])}`);
      else if (!(key in before)) lines.push(`    + ${safeText(key, true)}: ${safeJson(after[key])}`);
      else if (safeJson(before[key]) !== safeJson(after[key])) lines.push(`    ~ ${safeText(key, true)}: ${safeJson(before[key])} → ${safeJson(after[key])}`);
    }
  } else {
    lines.push('  config:    unchanged');
  }
  return lines;
}
