import { useState } from 'react';
import { describeError } from './api.ts';

/**
 * A form's busy flag and error line around its action: the error is cleared when the
 * action starts and set, described for people, when it fails; busy while it runs.
 */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<void>, describe: (err: unknown) => string = describeError): Promise<void> => {
    setError(null);
    setBusy(true);
    try {
      await action();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
