import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiError } from './api.ts';

export interface Loaded<T> {
  data: T | null;
  error: ApiError | Error | null;
  loading: boolean;
  reload(): void;
}

/** Loads once per change of `key`, and again every `pollMs` while the page is visible. */
export function useLoad<T>(load: () => Promise<T>, key: string, pollMs = 0): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: ApiError | Error | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: key stands for the loader's inputs; tick forces a reload
  useEffect(() => {
    setState({ data: null, error: null, loading: true });
  }, [key]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: key stands for the loader's inputs; tick forces a reload
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const data = await loadRef.current();
        if (live) setState({ data, error: null, loading: false });
      } catch (e) {
        if (live) setState((s) => ({ data: s.data, error: e as Error, loading: false }));
      }
      if (live && pollMs > 0) timer = setTimeout(run, document.hidden ? pollMs * 4 : pollMs);
    };
    void run();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [key, pollMs, tick]);

  return { ...state, reload };
}
