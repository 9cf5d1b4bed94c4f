import { useId, type ReactNode } from 'react';
import { Notice } from './feedback.tsx';

interface ConfirmProps {
  question: ReactNode;
  children?: ReactNode;
  confirmLabel: string;
  busyLabel: string;
  /** the button that changes nothing; it takes the focus */
  cancelLabel?: string;
  danger?: boolean;
  busy: boolean;
  error: ReactNode;
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * Asks to confirm a consequential action that it names ("Disable alice"). Cancel takes the
 * focus, so a stray Enter at 3 a.m. does nothing.
 */
export function ConfirmPrompt({
  testId,
  question,
  children,
  confirmLabel,
  busyLabel,
  cancelLabel = 'Cancel',
  danger = false,
  busy,
  error,
  onConfirm,
  onCancel,
}: ConfirmProps & { testId?: string }) {
  const id = useId();
  return (
    <div role="group" aria-labelledby={id} className="stack" data-testid={testId}>
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
          {cancelLabel}
        </button>
      </div>
    </div>
  );
}

/** A `ConfirmPrompt` in a table row under the row it acts on. */
export function ConfirmRow({ colSpan, testId, ...prompt }: ConfirmProps & { colSpan: number; testId: string }) {
  return (
    <tr data-testid={testId}>
      <td colSpan={colSpan}>
        <ConfirmPrompt {...prompt} />
      </td>
    </tr>
  );
}
