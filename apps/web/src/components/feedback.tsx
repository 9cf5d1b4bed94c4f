import type { ReactNode } from 'react';
import { personMessage } from '../messages.ts';

/** A loading line that says what is loading: never a bare spinner. */
export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="loading">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function ErrorMessage({ error, title = 'Something went wrong', onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  return (
    <div role="alert" className="notice notice-error">
      <strong>{title}.</strong> <ProblemText error={error} />
      {onRetry !== undefined && (
        <>
          {' '}
          <button type="button" className="link-button" onClick={onRetry}>
            Try again
          </button>
        </>
      )}
    </div>
  );
}

export function Notice({ tone = 'info', children, role }: { tone?: 'info' | 'warning' | 'success' | 'error'; children: ReactNode; role?: 'status' | 'alert' }) {
  return (
    <div role={role} className={`notice notice-${tone}`}>
      {children}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** An error for people (messages.ts): the sentence, then the gateway's detail and the reference for support in small print. */
export function ProblemText({ error, sentence }: { error: unknown; sentence?: string }) {
  const m = personMessage(error);
  const small = [sentence === undefined ? m.detail : null, m.reference !== null ? `reference ${m.reference}` : null].filter((x) => x !== null).join(' · ');
  return (
    <>
      <span data-testid="problem-sentence">{sentence ?? m.sentence}</span>
      {small !== '' && (
        <>
          {' '}
          <small className="problem-reference" data-testid="problem-reference">
            {small}
          </small>
        </>
      )}
    </>
  );
}
