import { useId, type ReactNode } from 'react';
import { Notice } from './feedback.tsx';

/**
 * A table row under the row it acts on, asking to confirm a consequential action that it names
 * ("Disable alice"). Cancel takes the focus, so a stray Enter at 3 a.m. does nothing.
 */
export function ConfirmRow({
  colSpan,
  testId,
  question,
  children,
  confirmLabel,
  busyLabel,
  danger = false,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  colSpan: number;
  testId: string;
  question: ReactNode;
  children?: ReactNode;
  confirmLabel: string;
  busyLabel: string;
  danger?: boolean;
  busy: boolean;
  error: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const id = useId();
  return (
    <tr data-testid={testId}>
      <td colSpan={colSpan}>
        <div role="group" aria-labelledby={id} className="stack">
          <p id={id}>
            <strong>{question}</strong>
          </p>
          {children}
          {error !== null && (
            <Notice tone="error" role="alert">
              {error}
            </Notice>
          )}
          <div className="actions">
            <button type="button" className={danger ? 'danger' : undefined} disabled={busy} onClick={onConfirm}>
              {busy ? busyLabel : confirmLabel}
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={onCancel} autoFocus>
              Cancel
            </button>
          </div>
        </div>
      </td>
    </tr>
  );
}
