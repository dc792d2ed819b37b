import { useEffect, useRef, useState } from 'react';
import { get } from '../api.ts';
import { useI18n } from '../i18n.tsx';
import { Status } from '../ui.tsx';

interface StagingLogPage {
  release: number;
  text: string;
  nextOffset: number;
  done: boolean;
  staged: boolean;
}

/** How often a staging still running is read on: about what `govhost deploy` shows, line by line. */
const FOLLOW_MS = 1000;

/**
 * A release's staging output (detection, the builder, the package manager's own lines), read from
 * its byte offset on while the staging runs, as `govhost deploy` prints it; then left as it is.
 */
export function StagingLog({ base, release }: { base: string; release: number }) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const [state, setState] = useState<{ done: boolean; staged: boolean; error: Error | null }>({
    done: false,
    staged: true,
    error: null,
  });
  const box = useRef<HTMLElement>(null);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let offset = 0;
    setText('');
    const read = async () => {
      try {
        const page = await get<StagingLogPage>(`${base}/staging-log?release=${release}&offset=${offset}`);
        if (!live) return;
        offset = page.nextOffset;
        if (page.text) setText((s) => s + page.text);
        setState({ done: page.done, staged: page.staged, error: null });
        if (!page.done) timer = setTimeout(read, FOLLOW_MS);
      } catch (err) {
        // A failed read is shown and not retried: the log is kept, the reader can open it again.
        if (live) setState((s) => ({ ...s, error: err as Error }));
      }
    };
    void read();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [base, release]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll to the newest line as it arrives
  useEffect(() => {
    if (box.current && !state.done) box.current.scrollTop = box.current.scrollHeight;
  }, [text]);

  const label = `${t('stagingLog')} v${release}`;
  return (
    <>
      <Status loading={false} error={state.error} />
      <p className="muted" role="status">
        {!state.staged ? t('stagingNone') : state.done ? t('stagingDone') : t('stagingRunning')}
      </p>
      {state.staged && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the log box scrolls and must be reachable by keyboard
        <section className="logs-box" ref={box} tabIndex={0} aria-label={label}>
          <pre className="logs" data-testid={`staging-log-${release}`}>
            {text}
          </pre>
        </section>
      )}
    </>
  );
}
