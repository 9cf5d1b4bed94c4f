import type { ReactNode } from 'react';

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

/** The end of a form: the submit error, if any, and the submit button that says what it is doing while busy. */
export function FormFooter({ error, busy, busyLabel, label }: { error: string | null; busy: boolean; busyLabel: ReactNode; label: ReactNode }) {
  return (
    <>
      {error !== null && (
        <div role="alert" className="notice notice-error">
          {error}
        </div>
      )}
      <div>
        <button type="submit" disabled={busy}>
          {busy ? busyLabel : label}
        </button>
      </div>
    </>
  );
}
