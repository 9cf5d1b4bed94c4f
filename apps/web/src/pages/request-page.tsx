import { useEffect, useRef, useState } from 'react';
import { api, describeError, isFinalRequestStatus, type Credential, type QgRequest } from '../api.ts';
import { ApprovalsList } from '../components/approvals-list.tsx';
import { ConfirmPrompt } from '../components/confirm-row.tsx';
import { CustodyReview, isCustodyRequest } from '../components/custody-review.tsx';
import { Countdown } from '../components/countdown.tsx';
import { DecisionPanel } from '../components/decision-panel.tsx';
import { ErrorMessage, Loading, ProblemText } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { LiveIndicator } from '../components/live-indicator.tsx';
import { OperationView, operationSummary } from '../components/operation-view.tsx';
import { PersonName } from '../components/person-name.tsx';
import { ResultView } from '../components/result-view.tsx';
import { ReviewText } from '../components/review-text.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatTime, shortDigest } from '../format.ts';
import { useSession } from '../session.tsx';
import { useLoad, type Loaded } from '../use-load.ts';
import { useRequestEvents } from '../use-request-events.ts';
import { useSubmit } from '../use-submit.ts';
import { verifyRequest, type Verification } from '../verify-request.ts';

function DigestCheck({ request, verification }: { request: QgRequest; verification: Verification | null }) {
  if (verification === null) return <p role="status">Recomputing the request digest in this browser…</p>;
  if (verification.refusals.length === 0 && verification.digest !== null) {
    return (
      <p className="digest-ok" data-testid="digest-check" data-ok="true">
        <span aria-hidden="true">✓</span> Digest recomputed in this browser:{' '}
        <code title={verification.digest} data-testid="digest-short">
          {shortDigest(verification.digest)}
        </code>{' '}
        matches the request.
      </p>
    );
  }
  return (
    <p className="digest-bad" data-testid="digest-check" data-ok="false">
      <span aria-hidden="true">✗</span> Digest recomputed in this browser:{' '}
      <code title={verification.digest ?? ''}>{verification.digest === null ? 'could not be computed' : shortDigest(verification.digest)}</code>; the
      gateway says <code title={request.digest}>{shortDigest(request.digest)}</code>.
    </p>
  );
}

function Names({ request, credential }: { request: QgRequest; credential: Loaded<Credential | undefined> }) {
  const input = request.digestInput;
  return (
    <dl className="fields">
      <dt>Requester</dt>
      <dd data-testid="requester">
        <PersonName id={input.requester} kind={request.requester.kind} request={request} />
      </dd>
      <dt>Reason</dt>
      <dd className="reason" data-testid="reason">
        <ReviewText text={input.reason} />
      </dd>
      <dt>Credential</dt>
      <dd>
        {credential.data !== undefined ? (
          <>
            <code>{credential.data.name}</code> ({credential.data.kind}, version {input.credential.version})
          </>
        ) : (
          <code>{input.credential.id}</code>
        )}
      </dd>
      <dt>Expiry</dt>
      <dd>
        {request.status === 'pending' ? <Countdown until={input.expiresAt} /> : 'no longer waiting'} <span className="muted">({formatTime(input.expiresAt)})</span>
      </dd>
      <dt>Submitted</dt>
      <dd>{formatTime(request.createdAt)}</dd>
      {request.finishedAt != null && (
        <>
          <dt>Finished</dt>
          <dd>{formatTime(request.finishedAt)}</dd>
        </>
      )}
    </dl>
  );
}

/** The requester may withdraw a pending request, after confirming: it cannot be approved afterwards. */
function CancelButton({ request, onDone }: { request: QgRequest; onDone: () => void }) {
  const { me } = useSession();
  const [confirming, setConfirming] = useState(false);
  const { busy, error, setError, run } = useSubmit();
  if (request.requester.id !== me.id || request.status !== 'pending') return null;
  const show = (open: boolean) => {
    setError(null);
    setConfirming(open);
  };
  const cancel = () =>
    void run(async () => {
      await api.cancelRequest(request.id);
      setConfirming(false);
      onDone();
    });
  if (confirming) {
    return (
      <ConfirmPrompt
        testId="cancel-confirm"
        question="Cancel this request?"
        confirmLabel="Cancel my request"
        busyLabel="Cancelling…"
        cancelLabel="Keep it pending"
        danger
        busy={busy}
        error={error}
        onConfirm={cancel}
        onCancel={() => show(false)}
      >
        <p>It cannot be approved afterwards.</p>
      </ConfirmPrompt>
    );
  }
  return (
    <div className="actions">
      <button type="button" className="secondary" onClick={() => show(true)}>
        Cancel my request
      </button>
    </div>
  );
}

/** One request: what exactly would run, who asked, who approved, the browser's own digest check, and the decision. */
export function RequestPage({ id }: { id: string }) {
  const loaded = useLoad(() => api.getRequest(id), [id]);
  const live = useRequestEvents((change) => change.id === id && loaded.reload());
  const credentialId = loaded.data?.digestInput.credential.id;
  const credential = useLoad(() => (credentialId === undefined ? Promise.resolve(undefined) : api.getCredential(credentialId)), [credentialId]);
  // Honest state: once the live updates drop, changes may have been missed; the page is stale until a
  // load that started after the drop comes back (on its own when they return, or "Reload now").
  const [stale, setStale] = useState(false);
  const wasLive = useRef(false);
  const reloadFresh = () => {
    void loaded.refresh().then((ok) => ok && setStale(false));
  };
  // Only a change of the stream's state matters here.
  useEffect(() => {
    if (live === 'live') {
      if (wasLive.current) reloadFresh();
      wasLive.current = true;
    } else if (wasLive.current) {
      setStale(true);
    }
  }, [live]);
  // Each check is tied to the exact object it checked: a refreshed request is unchecked until its own check ends.
  const [checked, setChecked] = useState<{ of: QgRequest; verification: Verification } | null>(null);
  const request = loaded.data;
  const verification = checked !== null && checked.of === request ? checked.verification : null;

  useEffect(() => {
    if (request === undefined) return;
    let current = true;
    verifyRequest(request).then(
      (v) => current && setChecked({ of: request, verification: v }),
      (err: unknown) => current && setChecked({ of: request, verification: { digest: null, refusals: [`The request could not be checked: ${describeError(err)}`] } }),
    );
    return () => {
      current = false;
    };
  }, [request]);

  if (request === undefined) {
    return loaded.error !== undefined ? (
      <section className="stack">
        <p>
          <Link href="/">← Back</Link>
        </p>
        <ErrorMessage title="This request could not be loaded" error={loaded.error} onRetry={loaded.reload} />
      </section>
    ) : (
      <Loading what="the request" />
    );
  }

  const final = isFinalRequestStatus(request.status);
  return (
    <article className="stack" data-testid="request-detail" data-status={request.status}>
      <p>
        <Link href="/">← Back</Link>
      </p>
      <div className="page-head">
        <h1>{operationSummary(request.digestInput.operation)}</h1>
        <StatusBadge status={request.status} />
        <LiveIndicator state={live} />
      </div>
      {stale ? (
        <div className="notice notice-warning" role="status" data-testid="stale-notice">
          <strong>Live updates were interrupted: this page may be out of date.</strong> It reloads the request when they are back; decisions wait until then.{' '}
          {loaded.error !== undefined && (
            <>
              Reloading failed: <ProblemText error={loaded.error} />{' '}
            </>
          )}
          <button type="button" className="link-button" onClick={reloadFresh} disabled={loaded.loading}>
            {loaded.loading ? 'Reloading…' : 'Reload now'}
          </button>
        </div>
      ) : (
        loaded.error !== undefined && <ErrorMessage title="Refreshing failed; showing the last known state" error={loaded.error} onRetry={loaded.reload} />
      )}
      <DigestCheck request={request} verification={verification} />
      {isCustodyRequest(request) && <CustodyReview request={request} />}
      <div className="grid-2">
        <section className="card" aria-labelledby="op-title">
          <h2 id="op-title">What would run</h2>
          <OperationView operation={request.digestInput.operation} />
        </section>
        <section className="card" aria-labelledby="who-title">
          <h2 id="who-title">Who and why</h2>
          <Names request={request} credential={credential} />
        </section>
      </div>
      <DecisionPanel request={request} verification={verification} onDecided={loaded.reload} stale={stale} credentialName={credential.data?.name} />
      <section className="card" aria-labelledby="approvals-title">
        <h2 id="approvals-title">Approvals</h2>
        <ApprovalsList request={request} />
      </section>
      {final && request.resultSha256 === undefined && request.result !== undefined && (
        <section className="card" aria-labelledby="result-title" data-testid="result">
          <h2 id="result-title">Result</h2>
          <ResultView result={request.result} />
        </section>
      )}
      {final && request.resultSha256 !== undefined && (
        <section className="card" aria-labelledby="result-title" data-testid="result-withheld">
          <h2 id="result-title">Result</h2>
          <p>
            {request.status === 'failed' && typeof request.result?.['error'] === 'string' ? <>It failed: {request.result['error']}. </> : null}
            The operation's output went to the requester only. Its SHA-256, to compare with what they show you:
          </p>
          <pre className="code" data-testid="result-sha256">{request.resultSha256}</pre>
        </section>
      )}
      {(request.status === 'approved' || request.status === 'executing') && (
        <p role="status" className="loading">
          <span className="spinner" aria-hidden="true" /> The quorum is met; the gateway is running the operation. The result appears here when it is done.
        </p>
      )}
      <CancelButton request={request} onDone={loaded.reload} />
      <details>
        <summary>Technical details</summary>
        <dl className="fields">
          <dt>Request id</dt>
          <dd>
            <code>{request.id}</code>
          </dd>
          <dt>Digest (from the gateway)</dt>
          <dd>
            <code className="wrap">{request.digest}</code>
          </dd>
          <dt>Digest input</dt>
          <dd>
            <pre className="code">{JSON.stringify(request.digestInput, null, 2)}</pre>
          </dd>
        </dl>
      </details>
    </article>
  );
}
