import { useCallback, useEffect, useRef, useState } from 'react';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again, keeping the current data on screen meanwhile. */
  reload: () => void;
  /** As `reload`; settles once this load is on screen: true, or false when it failed or a newer load overtook it. */
  refresh: () => Promise<boolean>;
}

/** Runs `load` on mount and whenever `deps` change; ignores answers that arrive after a newer load started. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback((): Promise<boolean> => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    return loadRef.current().then(
      (data) => {
        if (mine !== generation.current) return false;
        setState({ data, error: undefined, loading: false });
        return true;
      },
      (error: unknown) => {
        if (mine === generation.current) setState((s) => ({ data: s.data, error, loading: false }));
        return false;
      },
    );
  }, deps);

  useEffect(() => {
    void run();
  }, [run]);

  const reload = useCallback(() => void run(), [run]);
  return { ...state, reload, refresh: run };
}
