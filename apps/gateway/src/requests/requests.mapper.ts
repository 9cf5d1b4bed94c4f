import { canonicalJson, sha256Hex } from '#libs/crypto';
import { isFinalRequestStatus, type SharingProgress } from '#libs/contracts';
import type { Principal } from '../auth/principal.js';
import type { ApprovalRow, RequestView } from './requests.repository.js';
import type { SubmittedView } from './requests.service.js';

function counts(view: Pick<RequestView, 'approvals' | 'policy'>) {
  const received = view.approvals.filter((a) => a.decision === 'approve' && a.valid).length;
  return { required: view.policy.approvals.min, received };
}

/**
 * Where each sharing group stands (spec §3a): its valid approvals against its threshold,
 * and who in it has not approved. The flat form is one group named `custodians`.
 */
export function sharingProgressOf(view: Pick<RequestView, 'approvals' | 'custodians' | 'sharingGroups'>): SharingProgress[] {
  const approvedBy = new Set(view.approvals.filter((a) => a.decision === 'approve' && a.valid).map((a) => a.approverId));
  const groups = view.sharingGroups.length > 0 ? view.sharingGroups : [{ name: 'custodians', threshold: 0 }];
  return groups.map((g, grp) => {
    const members = view.custodians.filter((c) => (c.group ?? 0) === grp).map((c) => c.userId);
    const approvers = members.filter((id) => approvedBy.has(id));
    return { grp, name: g.name, threshold: g.threshold, approved: approvers.length, approvers, missing: members.filter((id) => !approvedBy.has(id)) };
  });
}

/** POST /requests (spec §4): the new request with its approval counts. */
export function toSubmittedResponse(view: SubmittedView) {
  const r = view.request;
  return {
    id: r.id,
    status: r.status,
    policyId: r.policyId,
    digest: r.digest,
    digestInput: r.digestInput,
    requestKey: view.requestKey,
    approvals: counts(view),
    expiresAt: r.digestInput.expiresAt,
  };
}

export function toApprovalResponse(a: ApprovalRow, names: Record<string, string> = {}) {
  return { userId: a.approverId, username: names[a.approverId] ?? null, decision: a.decision, at: a.createdAt.toISOString(), valid: a.valid, ...(a.reason !== null ? { reason: a.reason } : {}), ...(a.invalidReason !== null ? { invalidReason: a.invalidReason } : {}) };
}

/**
 * The outcome of a final request as `viewer` may see it (spec §4 "Results"): the
 * operation's output only to the requester the custodians signed for; to everyone
 * else its hash and, when it failed, the error.
 */
function outcomeFor(viewer: Principal, r: RequestView['request']) {
  const result = r.result ?? (r.status === 'succeeded' ? {} : { error: r.status });
  const finishedAt = r.finishedAt?.toISOString() ?? null;
  if (viewer.id === r.digestInput.requester) return { finishedAt, result };
  return { finishedAt, resultSha256: sha256Hex(canonicalJson(result)), ...('error' in result ? { result: { error: result['error'] } } : {}) };
}

/** GET /requests/:id (spec §7): the request as submitted, its status, decisions and, once final, the outcome as `viewer` may see it. */
export function toRequestResponse(view: RequestView, viewer: Principal) {
  const r = view.request;
  const final = isFinalRequestStatus(r.status);
  return {
    id: r.id,
    status: r.status,
    policyId: r.policyId,
    credential: { id: r.credentialId, version: r.credentialVersion },
    operation: r.operation,
    requester: { id: r.requesterId, kind: r.requesterKind, name: view.names[r.requesterId] ?? null },
    reason: r.reason,
    digest: r.digest,
    digestInput: r.digestInput,
    requestKey: view.requestKey,
    expiresAt: r.digestInput.expiresAt,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    approvalsRequired: counts(view).required,
    approvalsReceived: counts(view).received,
    sharingProgress: sharingProgressOf(view),
    custodians: view.custodianIds,
    names: view.names,
    approvals: view.approvals.map((a) => toApprovalResponse(a, view.names)),
    ...(final ? outcomeFor(viewer, r) : {}),
  };
}
