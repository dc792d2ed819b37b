/**
 * Runs `round` now and then `everyMs` after each round ends (never two at once) until stopped; a
 * round that throws is logged as `what failed` and the next one tries again. `stop` waits for a
 * round in progress, so nothing runs against a store that is closing.
 */
export function repeatEvery(
  round: () => Promise<unknown>,
  opts: { everyMs: number; what: string; log: { error(obj: object, msg: string): void } },
): { stop(): Promise<void> } {
  let running = true;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<unknown> = Promise.resolve();
  const tick = () => {
    current = round()
      .catch((err) => opts.log.error({ err: (err as Error).message }, `${opts.what} failed`))
      .finally(() => {
        if (running) timer = setTimeout(tick, opts.everyMs);
      });
  };
  tick();
  return {
    stop: async () => {
      running = false;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
