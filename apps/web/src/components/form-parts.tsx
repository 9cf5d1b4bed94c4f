import type { ReactNode } from 'react';
import { Notice } from './feedback.tsx';

/** A label wrapping its control, with an optional hint line under it. */
export function Field({ label, hint, className, children }: { label: ReactNode; hint?: ReactNode; className?: string; children: ReactNode }) {
  return (
    <label className={className}>
      {label}
      {children}
      {hint !== undefined && <span className="hint">{hint}</span>}
    </label>
  );
}

/**
 * The end of a form: the submit error, if any, and the submit button that says what
 * it is doing while busy; with `onCancel`, a Cancel button beside it.
 */
export function FormFooter({
  error,
  busy,
  busyLabel,
  label,
  onCancel,
}: {
  error: ReactNode;
  busy: boolean;
  busyLabel: ReactNode;
  label: ReactNode;
  onCancel?: () => void;
}) {
  return (
    <>
      {error !== null && (
        <Notice tone="error" role="alert">
          {error}
        </Notice>
      )}
      <div className={onCancel === undefined ? undefined : 'actions'}>
        <button type="submit" disabled={busy}>
          {busy ? busyLabel : label}
        </button>
        {onCancel !== undefined && (
          <button type="button" className="secondary" disabled={busy} onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </>
  );
}
