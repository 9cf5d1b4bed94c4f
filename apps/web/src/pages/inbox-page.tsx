import { api, type QgRequest } from '../api.ts';
import { GroupNeeds } from '../components/approvals-list.tsx';
import { Countdown } from '../components/countdown.tsx';
import { Empty, ErrorMessage, Loading } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { LiveIndicator } from '../components/live-indicator.tsx';
import { operationSummary } from '../components/operation-view.tsx';
import { PersonName } from '../components/person-name.tsx';
import { useLoad } from '../use-load.ts';
import { useRequestEvents } from '../use-request-events.ts';
import { revealHidden } from '../components/review-text.tsx';

function InboxItem({ request, credentialName }: { request: QgRequest; credentialName: string | undefined }) {
  const reason = revealHidden(request.digestInput.reason).shown;
  return (
    <li className="card request-card" data-testid="inbox-item" data-request-id={request.id}>
      <div className="request-card-main">
        <h2 className="request-title">
          <Link href={`/requests/${request.id}`}>{operationSummary(request.digestInput.operation)}</Link>
        </h2>
        <p className="reason clamp" title={reason}>
          “{reason}”
        </p>
        <p className="muted small">
          on <code data-testid="inbox-credential">{credentialName ?? `credential ${request.digestInput.credential.id.slice(0, 8)}…`}</code> · by <PersonName id={request.digestInput.requester} kind={request.requester.kind} request={request} /> · <Countdown until={request.digestInput.expiresAt} />
        </p>
        <GroupNeeds request={request} />
      </div>
      <div className="request-card-side">
        <span className="quorum" aria-label={`${request.approvalsReceived} of ${request.approvalsRequired} approvals`}>
          {request.approvalsReceived}/{request.approvalsRequired}
        </span>
        <span className="muted small">approvals</span>
        <Link className="button" href={`/requests/${request.id}`}>
          Review
        </Link>
      </div>
    </li>
  );
}

/** Requests waiting for my decision, refreshed on every server-sent change. */
export function InboxPage() {
  const inbox = useLoad(() => api.listRequests({ approvable: true }), []);
  // The credentials this custodian holds shares of, to name each request's credential.
  const credentials = useLoad(() => api.listCredentials().catch(() => []), []);
  const credentialName = (id: string) => credentials.data?.find((c) => c.id === id)?.name;
  const live = useRequestEvents(() => inbox.reload());

  return (
    <section className="stack">
      <div className="page-head">
        <h1>Inbox</h1>
        <LiveIndicator state={live} />
      </div>
      <p className="muted">Requests that wait for your decision. This list updates by itself.</p>
      {inbox.error !== undefined && <ErrorMessage title="The inbox could not be loaded" error={inbox.error} onRetry={inbox.reload} />}
      {inbox.data === undefined ? (
        inbox.error === undefined && <Loading what="the requests waiting for you" />
      ) : inbox.data.length === 0 ? (
        <Empty>Nothing waits for your decision. New requests appear here as they arrive.</Empty>
      ) : (
        <ul className="request-list" aria-label="Requests waiting for your decision">
          {inbox.data.map((r) => (
            <InboxItem key={r.id} request={r} credentialName={credentialName(r.digestInput.credential.id)} />
          ))}
        </ul>
      )}
    </section>
  );
}
