import type { ReactNode } from 'react';
import { describeError } from '../api.ts';

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
      <strong>{title}.</strong> {describeError(error)}
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
