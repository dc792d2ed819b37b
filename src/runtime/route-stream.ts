import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { RouteTable } from '../router/route-table.ts';
import { authorize, type Principal } from '../tenancy/principal.ts';
import { liveState, publishedRoutesVersion } from './live-state.repository.ts';

/** How often the watcher reads the published version while routers wait: a change reaches them within this. */
const READ_EVERY_MS = 200;

interface Waiter {
  after: number;
  answer(table: RouteTable | null): void;
}

/**
 * The long poll behind `GET /runtime/routes` (decisions 023, 028), one per replica: while routers
 * wait, a single watcher reads the published table's version alone every READ_EVERY_MS, reads the
 * table once per new version, and answers every waiter it is newer for. At most `maxWaiters` wait
 * at once; the next is refused (429 with Retry-After) rather than grow the replica's memory.
 */
export class RouteWatch {
  readonly #waiters = new Set<Waiter>();
  #timer: NodeJS.Timeout | null = null;
  #table: RouteTable | null = null;
  #reading: Promise<RouteTable | null> | null = null;
  /** Reads of the store so far, for the tests and anyone measuring the watcher's cost. */
  readonly reads = { version: 0, table: 0 };

  constructor(
    private readonly db: Db,
    private readonly maxWaiters: number,
    /** Opens the stored table's sealed certificate keys for the routers it answers (decision 031). */
    private readonly open: (t: RouteTable) => RouteTable = (t) => t,
  ) {}

  /**
   * The route table once its version is above `after`, waiting up to `waitMs` for one; null when
   * none came in time or the caller went away.
   */
  async next(
    caller: Principal,
    after: number,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<RouteTable | null> {
    authorize(caller, 'routes:read');
    const newer = await this.#newerThan(after);
    if (newer || waitMs <= 0 || signal.aborted) return newer;
    if (this.#waiters.size >= this.maxWaiters) {
      throw new DomainError(
        'GOVHOST_ROUTE_STREAM_BUSY',
        `${this.#waiters.size} routers are already waiting on this replica`,
        { retryAfter: 1 },
      );
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        after,
        answer: (table) => {
          clearTimeout(timeout);
          signal.removeEventListener('abort', gone);
          this.#waiters.delete(waiter);
          this.#stopIfIdle();
          resolve(table);
        },
      };
      const gone = () => waiter.answer(null);
      const timeout = setTimeout(gone, waitMs);
      signal.addEventListener('abort', gone, { once: true });
      this.#waiters.add(waiter);
      this.#timer ??= setInterval(() => void this.#tick(), READ_EVERY_MS);
    });
  }

  /** Routers waiting now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Answers every waiter (with nothing) and stops the watcher: the replica is closing. */
  close(): void {
    for (const w of [...this.#waiters]) w.answer(null);
    this.#stopIfIdle();
  }

  /** The published table if its version is above `after` (its version read first: the cheap part). */
  async #newerThan(after: number): Promise<RouteTable | null> {
    this.reads.version++;
    const version = await publishedRoutesVersion(this.db);
    if (version <= after) return null;
    const table = await this.#tableAt(version);
    return table && table.version > after ? table : null;
  }

  /** The table at `version` or later: read from the store once, whoever asks meanwhile. */
  async #tableAt(version: number): Promise<RouteTable | null> {
    if (this.#table && this.#table.version >= version) return this.#table;
    this.#reading ??= (async () => {
      this.reads.table++;
      const stored = (await liveState(this.db, 'routes')) as RouteTable | null;
      // Opened once per version, whatever the number of routers it answers.
      if (stored && (!this.#table || stored.version > this.#table.version)) this.#table = this.open(stored);
      return this.#table;
    })().finally(() => {
      this.#reading = null;
    });
    return this.#reading;
  }

  #ticking = false;
  async #tick(): Promise<void> {
    // A read slower than the interval (a loaded store) is not overlapped by the next one.
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      if (this.#waiters.size === 0) return;
      const lowest = Math.min(...[...this.#waiters].map((w) => w.after));
      const table = await this.#newerThan(lowest);
      if (table) for (const w of [...this.#waiters]) if (table.version > w.after) w.answer(table);
    } catch {
      // The store did not answer: the waiters wait on, and the next tick asks again.
    } finally {
      this.#ticking = false;
      this.#stopIfIdle();
    }
  }

  #stopIfIdle(): void {
    if (this.#waiters.size > 0 || !this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = null;
  }
}
