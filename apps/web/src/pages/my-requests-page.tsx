import { useState } from 'react';
import { api, REQUEST_STATUSES, type QgRequest, type RequestStatus } from '../api.ts';
import { Empty, ErrorMessage, Loading } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { LiveIndicator } from '../components/live-indicator.tsx';
import { operationSummary } from '../components/operation-view.tsx';
import { PersonName } from '../components/person-name.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatTime } from '../format.ts';
import { useSession } from '../session.tsx';
import { useLoad } from '../use-load.ts';
import { useRequestEvents } from '../use-request-events.ts';
import { revealHidden } from '../components/review-text.tsx';

function resultSummary(r: QgRequest): string {
  if (r.resultSha256 !== undefined && r.result === undefined) return 'done; output to the requester only';
  if (r.result === undefined) return r.status === 'pending' ? `${r.approvalsReceived} of ${r.approvalsRequired} approvals` : '';
  if (typeof r.result.error === 'string') return r.result.error;
  if (typeof r.result.signature === 'string' || typeof r.result.jws === 'string') return 'signature ready';
  if (typeof r.result.exitCode === 'number') return `exit code ${r.result.exitCode}`;
  if (typeof r.result.status === 'number') return `HTTP ${r.result.status}`;
  if (typeof r.result.rowCount === 'number') return `${r.result.rowCount} rows`;
  return '';
}

/** Requests I submitted (with their results), or every request I may see. */
export function MyRequestsPage() {
  const { me, has } = useSession();
  const [scope, setScope] = useState<'mine' | 'all'>(has('requester') ? 'mine' : 'all');
  const [status, setStatus] = useState<RequestStatus | ''>('');
  const list = useLoad(() => api.listRequests(status === '' ? {} : { status }), [status]);
  const live = useRequestEvents(() => list.reload());
  const shown = (list.data ?? []).filter((r) => scope === 'all' || r.requester.id === me.id);

  return (
    <section className="stack">
      <div className="page-head">
        <h1>Requests</h1>
        <LiveIndicator state={live} />
        {has('requester') && (
          <Link className="button" href="/requests/new">
            New request
          </Link>
        )}
      </div>
      <div className="toolbar" role="group" aria-label="Filter requests">
        <fieldset className="segmented">
          <legend className="visually-hidden">Whose requests</legend>
          <label>
            <input type="radio" name="scope" checked={scope === 'mine'} onChange={() => setScope('mine')} /> Submitted by me
          </label>
          <label>
            <input type="radio" name="scope" checked={scope === 'all'} onChange={() => setScope('all')} /> All I can see
          </label>
        </fieldset>
        <label className="inline">
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value as RequestStatus | '')}>
            <option value="">any</option>
            {REQUEST_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      {list.error !== undefined && <ErrorMessage title="The requests could not be loaded" error={list.error} onRetry={list.reload} />}
      {list.data === undefined ? (
        list.error === undefined && <Loading what="requests" />
      ) : shown.length === 0 ? (
        <Empty>
          {scope === 'mine' ? (
            has('requester') ? (
              <>
                You have not submitted any request yet. <Link href="/requests/new">Submit a new request</Link> here, or with the <code>qg</code> CLI from automation.
              </>
            ) : (
              'You have not submitted any request.'
            )
          ) : (
            'No requests.'
          )}
        </Empty>
      ) : (
        <div className="table-scroll">
          <table data-testid="requests-table">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Operation</th>
                <th scope="col" className="hide-narrow">Requester</th>
                <th scope="col" className="hide-narrow">Reason</th>
                <th scope="col" className="hide-narrow">Submitted</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.id} data-request-id={r.id}>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>
                    <Link href={`/requests/${r.id}`}>{operationSummary(r.digestInput.operation)}</Link>
                  </td>
                  <td className="hide-narrow">
                    <PersonName id={r.requester.id} kind={r.requester.kind} request={r} />
                  </td>
                  <td className="reason-cell hide-narrow">
                    <span className="clamp" title={revealHidden(r.reason).shown}>
                      {revealHidden(r.reason).shown}
                    </span>
                  </td>
                  <td className="hide-narrow">{formatTime(r.createdAt)}</td>
                  <td>{resultSummary(r)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
