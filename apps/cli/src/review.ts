import { computeDigest, CustodianError, findDigestDrift, parseDigestInput, reviewLines, reviewReshare, reviewRotate, type DigestDriftField, type DigestInput, type ReviewGroup } from '#libs/custodian';
import type { CredentialHealth, User } from '#libs/contracts';
import type { ApiClient } from './api-client.js';
import type { CredentialView, RequestView } from './api-types.js';
import { describeApprovals, describeOperation, namesOf, safeText, timeLeft } from './render.js';

export interface DigestCheck {
  /** the digest recomputed here from digestInput, when it has the §5 shape */
  recomputed?: string;
  matches: boolean;
  /** why it does not match, in words */
  problem?: string;
  /** the signed content, when digestInput has the §5 shape */
  signed?: DigestInput;
  /** top-level fields that say something else than the signed digestInput (a differing id is the `problem`) */
  divergentFields: DigestDriftField[];
}

/**
 * Recomputes the digest from `digestInput` (never trusting `digest`), checks that
 * digestInput is about this request id, and lists the top-level fields that
 * differ from what is signed (a display built from those would lie).
 */
export async function checkDigest(view: RequestView, expectedId: string): Promise<DigestCheck> {
  let signed: DigestInput;
  try {
    signed = parseDigestInput(view.digestInput);
  } catch (error) {
    if (error instanceof CustodianError) return { matches: false, problem: error.message, divergentFields: [] };
    throw error;
  }
  const recomputed = await computeDigest(signed);
  const divergentFields = findDigestDrift(view).filter((field) => field !== 'id');
  if (signed.id !== expectedId || view.id !== expectedId) {
    return { recomputed, matches: false, problem: `digestInput is for request ${signed.id}, not ${expectedId}`, signed, divergentFields };
  }
  if (recomputed !== view.digest) {
    return { recomputed, matches: false, problem: 'the digest the gateway sent is not the hash of the request content', signed, divergentFields };
  }
  // The web UI refuses this too: a reviewer must never be shown one thing and sign another.
  if (divergentFields.length > 0) {
    return { recomputed, matches: false, problem: `the request's ${divergentFields.join(', ')} differ from the signed content`, signed, divergentFields };
  }
  return { recomputed, matches: true, signed, divergentFields };
}

export async function credentialName(api: ApiClient, id: string): Promise<string | undefined> {
  return (await credentialView(api, id))?.name;
}

async function credentialView(api: ApiClient, id: string): Promise<CredentialView | undefined> {
  try {
    return await api.get<CredentialView>(`/api/v1/credentials/${encodeURIComponent(id)}`);
  } catch {
    return undefined;
  }
}

/**
 * The request as a custodian must read it: every field shown comes from the
 * signed digestInput, escaped for the terminal, then the digest check. People
 * are named from what the response carries (`namesOf`).
 */
export async function renderRequest(api: ApiClient, view: RequestView, check: DigestCheck, nameOf: (id: string) => string = namesOf(view)): Promise<string> {
  const signed = check.signed;
  const lines: string[] = [];
  lines.push(`request     ${view.id}`);
  lines.push(`status      ${view.status}${view.status === 'pending' ? ` (${timeLeft(view.expiresAt)})` : ''}`);
  if (signed === undefined) {
    lines.push('content     UNREADABLE: digestInput does not have the expected shape');
  } else {
    const credential = await credentialView(api, signed.credential.id);
    const name = credential?.name;
    lines.push(`credential  ${name !== undefined ? `${safeText(name, true)} ` : ''}(${signed.credential.id}, version ${signed.credential.version})`);
    lines.push(`requester   ${view.requester.kind === 'service_account' ? 'service account' : 'user'} ${nameOf(signed.requester)}${nameOf(signed.requester) !== signed.requester ? ` (${signed.requester})` : ''}`);
    lines.push(`reason      ${safeText(signed.reason).replace(/\n/g, '\n            ')}`);
    lines.push(`expires     ${safeText(signed.expiresAt, true)}`);
    lines.push(`operation   ${safeText(signed.operation.kind, true)}`);
    lines.push(describeOperation(signed.operation));
    const custody = await renderCustodyReview(api, signed, nameOf);
    if (custody !== undefined) lines.push(custody);
  }
  lines.push(`approvals   ${describeApprovals(view, nameOf)}; ${view.custodians.length} custodian(s)`);
  for (const a of view.approvals) {
    lines.push(`  ${a.decision === 'approve' ? 'approved' : 'rejected'} by ${nameOf(a.userId)} at ${a.at}${a.valid ? '' : ` (INVALID${a.invalidReason !== undefined ? `: ${safeText(a.invalidReason, true)}` : ''})`}${a.reason !== undefined ? `: ${safeText(a.reason, true)}` : ''}`);
  }
  lines.push(`digest      ${safeText(view.digest, true)}`);
  if (check.matches) {
    lines.push(`recomputed  ${check.recomputed ?? ''}  OK (matches)`);
  } else {
    lines.push(`recomputed  ${check.recomputed ?? '(cannot compute)'}`);
    lines.push(`!!! DIGEST MISMATCH !!! ${check.problem ?? ''}`);
    lines.push('!!! Do not approve: what you would sign is not what this request claims to be.');
  }
  if (check.divergentFields.length > 0) {
    lines.push(`!!! the request's ${check.divergentFields.join(', ')} differ from the signed content; shown above is the signed content`);
  }
  return lines.join('\n');
}

/**
 * For a custody request (`credential.reshare`, `credential.rotate`, spec §4a): what it
 * does to who holds the credential, from libs/custodian (the review the web UI shows),
 * each line escaped for the terminal and every warning prefixed `!!!`. Fetched with the
 * caller's own rights: health (names, the keys shares are sealed to) and the users list
 * (enrolled keys) only when they may read them. Undefined for any other operation.
 */
export async function renderCustodyReview(api: ApiClient, signed: DigestInput, nameOf: (id: string) => string): Promise<string | undefined> {
  const kind: string = signed.operation.kind;
  if (kind !== 'credential.reshare' && kind !== 'credential.rotate') return undefined;
  const id = encodeURIComponent(signed.credential.id);
  let credential: CredentialView;
  try {
    credential = await api.get<CredentialView>(`/api/v1/credentials/${id}`);
  } catch {
    return '!!! custody review unavailable: the credential could not be read; do not approve blind';
  }
  const params = signed.operation.params;
  let review;
  if (kind === 'credential.rotate') {
    review = reviewRotate({ currentConfig: credential.config, params });
  } else {
    const health = await api.get<CredentialHealth>(`/api/v1/credentials/${id}/health`).catch(() => null);
    const users = await api.get<{ users: User[] }>('/api/v1/users').then((r) => new Map(r.users.map((u) => [u.id, u])), () => null);
    const current: ReviewGroup[] =
      health !== null
        ? health.groups.map((g) => ({ name: g.name, threshold: g.threshold, custodians: g.custodians.map((c) => ({ userId: c.userId, username: c.username, kid: c.kid === '' ? null : c.kid, live: c.live })) }))
        : credential.sharing.groups.map((g) => ({ name: g.name, threshold: g.threshold, custodians: g.custodians.map((c) => ({ userId: c.userId, username: nameOf(c.userId), kid: null })) }));
    const person = (userId: string) => {
      if (users !== null) {
        const u = users.get(userId);
        return u === undefined ? undefined : { username: u.username, kid: u.encryptionThumbprint ?? null };
      }
      return { username: current.flatMap((g) => g.custodians).find((c) => c.userId === userId)?.username ?? nameOf(userId) };
    };
    review = reviewReshare({ current, proposed: params['sharing'], person, requesterId: signed.requester, directoryComplete: users !== null });
  }
  const out = ['custody     what this changes (compared with version ' + String(credential.version) + '):'];
  for (const line of reviewLines(review)) out.push(line.startsWith('WARNING ') ? `!!! ${safeText(line.slice(8), true)}` : `  ${safeText(line, true)}`);
  return out.join('\n');
}
