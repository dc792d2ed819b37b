import type { Log } from './log.ts';

/**
 * Last line of defence for a router process. Known failures (clients leaving, backends
 * resetting, malformed messages) are handled where they happen; an exception that still escapes
 * is a bug, after which this process's state cannot be trusted. Rather than die at once and cut
 * every request in flight, the process stops taking new connections, lets the others finish
 * (up to `graceMs`), and exits 1 so that its supervisor (the cluster primary, or systemd)
 * starts a fresh one.
 */
export function installCrashGuard(
  log: Log,
  stop: (graceMs: number) => Promise<unknown>,
  graceMs: number,
): void {
  let stopping = false;
  const onBug = (err: unknown) => {
    log.error(
      { err: err instanceof Error ? err.stack : String(err) },
      'uncaught error: draining, then exiting',
    );
    if (stopping) return;
    stopping = true;
    const hard = setTimeout(() => process.exit(1), graceMs + 5_000);
    hard.unref();
    stop(graceMs).finally(() => process.exit(1));
  };
  process.on('uncaughtException', onBug);
  process.on('unhandledRejection', onBug);
}
