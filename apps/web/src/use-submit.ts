import { createElement, useState, type ReactNode } from 'react';
import { ProblemText } from './components/feedback.tsx';

/**
 * A form's busy flag and error line around its action: the error is cleared when the
 * action starts and set, described for people (messages.ts, with the reference for
 * support in small print; `describe` may word an error itself), when it fails; busy while it runs.
 */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ReactNode>(null);
  const run = async (action: () => Promise<void>, describe?: (err: unknown) => string | undefined): Promise<void> => {
    setError(null);
    setBusy(true);
    try {
      await action();
    } catch (err) {
      setError(createElement(ProblemText, { error: err, sentence: describe?.(err) }));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
