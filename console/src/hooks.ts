import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, request } from './api.ts';

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

/**
 * Streams a text endpoint that keeps its response open (the logs with follow=true): the text so
 * far, cut to its last `maxLines` lines so that a chatty service cannot fill the tab's memory.
 * Paused, the stream is closed and the text kept; resumed, it starts again from the tail.
 */
export function useTextStream(path: string, paused: boolean, maxLines = 1000): Loaded<string> {
  const [state, setState] = useState<{ data: string | null; error: Error | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick forces a new stream
  useEffect(() => {
    if (paused) return;
    const abort = new AbortController();
    void (async () => {
      let text = '';
      try {
        const res = await request('GET', path, undefined, abort.signal);
        if (!res.body) throw new Error('no response body');
        setState({ data: '', error: null, loading: false });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
          const lines = text.split('\n');
          if (lines.length > maxLines + 1) text = lines.slice(-maxLines - 1).join('\n');
          setState({ data: text, error: null, loading: false });
        }
      } catch (e) {
        if (!abort.signal.aborted) setState((s) => ({ data: s.data, error: e as Error, loading: false }));
      }
    })();
    return () => abort.abort();
  }, [path, paused, maxLines, tick]);

  return { ...state, reload };
}

/** What a form or button last did: a confirmation, or the platform's refusal in its own words. */
export interface Outcome {
  ok: boolean;
  text: string;
}

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** What a form shows after a try: its outcome, and the API's message for each refused field. */
export interface Submitting {
  busy: boolean;
  msg: Outcome | null;
  /** Field name (the first part after `body/`, e.g. `goLive`) → the API's message for it. */
  fields: Record<string, string>;
  /** Runs `action`; its text (or the error's) becomes `msg`. Resolves to whether it succeeded. */
  run(action: () => Promise<string | Outcome>): Promise<boolean>;
  clear(): void;
}

/** Turns a problem document's `errors` into messages keyed by field. */
export function fieldMessages(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(err instanceof ApiError)) return out;
  for (const f of err.fields) {
    const name = f.field.replace(/^body\/?/, '').split('/')[0] || '';
    if (name) out[name] = out[name] ? `${out[name]}; ${f.message}` : f.message;
  }
  return out;
}

export function useSubmit(): Submitting {
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<Submitting['msg']>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const clear = useCallback(() => {
    setMsg(null);
    setFields({});
  }, []);
  const run = useCallback(async (action: () => Promise<string | Outcome>) => {
    setBusy(true);
    setMsg(null);
    setFields({});
    try {
      const r = await action();
      setMsg(typeof r === 'string' ? { ok: true, text: r } : r);
      return true;
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
      setFields(fieldMessages(err));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, msg, fields, run, clear };
}
