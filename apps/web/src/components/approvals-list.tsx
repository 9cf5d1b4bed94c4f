import type { QgRequest } from '../api.ts';
import { formatTime } from '../format.ts';
import { PersonName } from './person-name.tsx';
import { revealHidden } from './review-text.tsx';

/** "k of n": who has approved, rejected or not decided yet, by name where this user may know it. */
export function ApprovalsList({ request }: { request: QgRequest }) {
  const byUser = new Map(request.approvals.map((a) => [a.userId, a]));
  const others = request.approvals.filter((a) => !request.custodians.includes(a.userId));
  return (
    <div>
      <p className="quorum-line" data-testid="quorum">
        <strong>
          {request.approvalsReceived} of {request.approvalsRequired}
        </strong>{' '}
        required approvals · {request.custodians.length} custodian{request.custodians.length === 1 ? '' : 's'}
      </p>
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
