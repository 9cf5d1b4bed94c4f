import type { QgRequest, SharingProgress } from '../api.ts';
import { formatTime } from '../format.ts';
import { PersonName } from './person-name.tsx';
import { revealHidden } from './review-text.tsx';

/** "k of n": who has approved, rejected or not decided yet, by name where this user may know it. */
export function ApprovalsList({ request }: { request: QgRequest }) {
  const byUser = new Map(request.approvals.map((a) => [a.userId, a]));
  const others = request.approvals.filter((a) => !request.custodians.includes(a.userId));
  const groups = request.sharingProgress ?? [];
  const groupOf = new Map(groups.length < 2 ? [] : groups.flatMap((g) => [...g.approvers, ...g.missing].map((id) => [id, g.name] as const)));
  return (
    <div>
      <p className="quorum-line" data-testid="quorum">
        <strong>
          {request.approvalsReceived} of {request.approvalsRequired}
        </strong>{' '}
        required approvals · {request.custodians.length} custodian{request.custodians.length === 1 ? '' : 's'}
      </p>
      <GroupProgress request={request} />
      <ul className="approvals">
        {[...request.custodians.map((id) => ({ id, a: byUser.get(id) })), ...others.map((a) => ({ id: a.userId, a }))].map(({ id, a }) => (
          <li key={id} data-testid="approval" data-decision={a?.decision ?? 'waiting'}>
            <span className={`decision decision-${a === undefined ? 'waiting' : a.valid ? a.decision : 'invalid'}`} aria-hidden="true">
              {a === undefined ? '○' : !a.valid ? '!' : a.decision === 'approve' ? '✓' : '✗'}
            </span>
            <span>
              <strong>
                <PersonName id={id} kind="user" request={request} />
              </strong>{' '}
              {groupOf.has(id) && <span className="tag" data-testid="approval-group">{groupOf.get(id)}</span>}{' '}
              {a === undefined
                ? 'has not decided'
                : `${a.decision === 'approve' ? 'approved' : 'rejected'} at ${formatTime(a.at)}${a.valid ? '' : ` — not counted: ${a.invalidReason ?? 'invalid'}`}`}
              {a?.reason !== undefined && <span className="muted"> — “{revealHidden(a.reason).shown}”</span>}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The sharing groups still short of their threshold (spec §3a), for a grouped credential: empty otherwise. */
export function shortGroups(request: QgRequest): SharingProgress[] {
  const groups = request.sharingProgress ?? [];
  return groups.length < 2 ? [] : groups.filter((g) => g.approved < g.threshold);
}

/** "SRE 2 of 2 ✓ · Security 0 of 1": each sharing group against its threshold, for a grouped credential only. */
export function GroupProgress({ request }: { request: QgRequest }) {
  const groups = request.sharingProgress ?? [];
  if (groups.length < 2) return null;
  return (
    <p className="group-progress" data-testid="group-progress">
      {groups.map((g, i) => {
        const met = g.approved >= g.threshold;
        return (
          <span key={g.grp} data-testid="group-progress-item" data-met={met ? 'true' : 'false'}>
            {i > 0 && ' · '}
            <strong>{g.name}</strong> {Math.min(g.approved, g.threshold)} of {g.threshold}
            {met ? ' ✓' : ''}
          </span>
        );
      })}
    </p>
  );
}

/** "security needs 1 more: dave" for each group still short (the inbox's line). */
export function GroupNeeds({ request }: { request: QgRequest }) {
  const short = shortGroups(request);
  if (short.length === 0) return null;
  return (
    <p className="muted small" data-testid="group-needs">
      {short.map((g, i) => (
        <span key={g.grp}>
          {i > 0 && ' · '}
          <strong>{g.name}</strong> needs {g.threshold - g.approved} more:{' '}
          {g.missing.map((id, j) => (
            <span key={id}>
              {j > 0 && ', '}
              <PersonName id={id} kind="user" request={request} />
            </span>
          ))}
        </span>
      ))}
    </p>
  );
}
