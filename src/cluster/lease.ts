import type { Db, Executor } from '../platform/database.ts';
import * as repo from './lease.repository.ts';

/** How long a lease lasts without renewal: a dead holder's work moves within this plus a retry. */
export const LEASE_TTL_MS = 5_000;
/** How often a replica without the lease tries to take it. */
const TAKE_EVERY_MS = 1_000;

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Thrown by `fence` when the lease changed hands: the write it guards must not happen. */
export class LeaseLost extends Error {
  constructor(name: string) {
    super(`this replica no longer holds the lease ${name}; another has taken its work over`);
  }
}

/** A lease this replica holds, for the work it guards. */
export interface HeldLease {
  readonly name: string;
  readonly generation: number;
  /** Aborted the moment the lease is known lost (renewal refused, or not renewed in time). */
  readonly signal: AbortSignal;
  /**
   * Throws `LeaseLost` unless the lease is still held, locking its row until `trx` ends: call it in
   * the transaction of a write that must come from the holder only.
   */
  fence(trx: Executor): Promise<void>;
}

export interface LeaseKeeperOptions {
  db: Db;
  name: string;
  /** This replica, as other replicas and operators see it (host, pid, a random part). */
  holder: string;
  log: Log;
  /** Starts the work; returns how to stop it (called when the lease is lost or the keeper stops). */
  onAcquired(lease: HeldLease): Promise<() => Promise<void>>;
  ttlMs?: number;
  /**
   * PGlite: one process only, so the lease is taken whatever a killed process left in it, and kept
   * however late its renewals are: no other replica can exist to take the work over, and a busy
   * in-process database (one long statement delays every other) must not stop the runtime.
   */
  exclusive?: boolean;
}

/**
 * Runs a piece of work on one replica at a time: tries to take the lease (every second), runs the
 * work while it holds it, renews it (three times per time to live), and stops the work as soon as
 * it is lost. A holder that cannot reach the store stops acting before its lease can expire, so that
 * two replicas never act at once even while the database is unreachable.
 */
export class LeaseKeeper {
  private lease: (repo.LeaseRow & { abort: AbortController }) | null = null;
  private stopWork: Promise<() => Promise<void>> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /**
   * Checks the time since the last renewal apart from the renewals themselves: a renewal that
   * hangs (a link dropped without a reset, a pool with no free connection) never fails, and the
   * holder must stop acting before its lease can expire all the same.
   */
  private watchdog: NodeJS.Timeout | null = null;
  /** When the last successful renewal was asked for, on the monotonic clock (a wall-clock jump
   * must not lengthen the time a holder goes on acting). */
  private lastRenewal = 0;
  private running = false;
  private tick: Promise<void> = Promise.resolve();
  private readonly ttlMs: number;

  constructor(private readonly opts: LeaseKeeperOptions) {
    this.ttlMs = opts.ttlMs ?? LEASE_TTL_MS;
  }

  /**
   * Starts trying; resolves after the first attempt and, when it took the lease, once the work has
   * started (so a lone replica is ready when this resolves). Renewals go on meanwhile.
   */
  async start(): Promise<void> {
    this.running = true;
    await this.step();
    this.schedule();
    await this.stopWork;
  }

  /** Whether this replica holds the lease now. */
  held(): HeldLease | null {
    return this.lease ? this.view(this.lease) : null;
  }

  /** Stops the work and lets the lease go at once (a clean shutdown). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.watchdog) clearInterval(this.watchdog);
    // A renewal in flight may hang on a dead link: shutdown waits for it one time to live at most.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([this.tick, new Promise((r) => (bound = setTimeout(r, this.ttlMs)))]);
    clearTimeout(bound);
    const lease = this.lease;
    await this.lose('the replica is stopping');
    if (lease) await repo.release(this.opts.db, lease).catch(() => undefined);
  }

  private schedule(): void {
    if (!this.running) return;
    // The holder renews three times per lease; the others try often, since a dead holder's work
    // waits for them (a try is one indexed update that changes nothing while the lease lives).
    const every = this.lease ? this.ttlMs / 3 : Math.min(TAKE_EVERY_MS, this.ttlMs / 3);
    this.timer = setTimeout(() => {
      this.tick = this.step().finally(() => this.schedule());
    }, Math.floor(every));
    this.timer.unref();
  }

  private view(lease: repo.LeaseRow & { abort: AbortController }): HeldLease {
    return {
      name: lease.name,
      generation: lease.generation,
      signal: lease.abort.signal,
      fence: async (trx) => {
        if (lease.abort.signal.aborted) throw new LeaseLost(lease.name);
        // Exclusive: no other process can hold it, whatever the row's expiry says.
        if (this.opts.exclusive !== true && !(await repo.stillHeld(trx, lease)))
          throw new LeaseLost(lease.name);
      },
    };
  }

  private async step(): Promise<void> {
    const { db, name, holder, log } = this.opts;
    const asked = performance.now();
    try {
      if (this.lease) {
        if (await repo.renew(db, this.lease, this.ttlMs)) this.lastRenewal = asked;
        else await this.lose('another replica took the lease');
        return;
      }
      const row = await repo.take(db, name, holder, this.ttlMs, this.opts.exclusive === true);
      if (!row || !this.running) return;
      this.lease = { ...row, abort: new AbortController() };
      this.lastRenewal = asked;
      this.watch();
      log.info(
        { lease: name, generation: row.generation, holder },
        'lease taken: this replica runs the work',
      );
      const held = this.view(this.lease);
      // Not awaited: renewals go on while the work starts (starting the runtime can take longer
      // than the lease lives).
      this.stopWork = this.opts.onAcquired(held).catch((err: Error) => {
        log.error({ lease: name, err: err.message }, 'the leased work did not start');
        return async () => {};
      });
    } catch (err) {
      log.warn({ lease: name, err: (err as Error).message }, 'cannot reach the store for the lease');
      // Stop acting well before another replica may take it: renewal started at `lastRenewal`,
      // so the lease surely lives until then plus its time to live.
      if (this.lease && this.late()) {
        await this.lose('the lease could not be renewed in time');
      }
    }
  }

  /** Past the point where another replica might take the lease: never, in exclusive mode. */
  private late(): boolean {
    return this.opts.exclusive !== true && performance.now() - this.lastRenewal > (this.ttlMs * 2) / 3;
  }

  private watch(): void {
    if (this.watchdog || this.opts.exclusive === true) return;
    this.watchdog = setInterval(
      () => {
        if (this.lease && this.late()) void this.lose('the lease could not be renewed in time');
      },
      Math.max(50, Math.floor(this.ttlMs / 10)),
    );
    this.watchdog.unref();
  }

  private async lose(why: string): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    this.lease = null;
    lease.abort.abort();
    if (why !== 'the replica is stopping') {
      this.opts.log.warn(
        { lease: lease.name, generation: lease.generation, why },
        'lease lost: work stopped',
      );
    }
    const stopping = this.stopWork;
    this.stopWork = null;
    if (stopping) {
      try {
        await (await stopping)();
      } catch (err) {
        this.opts.log.error(
          { lease: lease.name, err: (err as Error).message },
          'the leased work did not stop cleanly',
        );
      }
    }
  }
}
