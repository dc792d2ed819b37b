import type { Db, Executor } from '../platform/database.ts';
import type { Route, RouteTable } from '../router/route-table.ts';
import { type LiveSnapshot, writeSnapshot } from './live-state.repository.ts';

/** At most this often when nothing reports a change: memory and health move without events. */
const REFRESH_MS = 5_000;

/**
 * Publishes the runtime lease holder's live state (instances, who serves, isolation) to the store
 * for every other replica: soon after each change (coalesced), and every REFRESH_MS. Each write
 * checks the lease in its transaction, so a holder that lost it cannot overwrite its successor's.
 */
export class LiveStatePublisher {
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private last = '';

  constructor(
    private readonly deps: {
      db: Db;
      snapshot(): LiveSnapshot;
      /** Throws unless this replica still holds the runtime lease (locks it until the write ends). */
      fence(trx: Executor): Promise<void>;
      log: { warn(obj: object, msg: string): void };
    },
  ) {}

  start(): void {
    this.publish();
    this.timer = setInterval(() => this.publish(), REFRESH_MS);
    this.timer.unref();
  }

  /** A publication within 100 ms, once for any number of changes meanwhile. */
  changed(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      this.publish();
    }, 100);
    this.soon.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    await this.writing;
  }

  private publish(): void {
    this.writing = this.writing.then(async () => {
      const snap = this.deps.snapshot();
      const text = JSON.stringify(snap);
      if (text === this.last) return;
      try {
        await this.deps.db.transaction().execute(async (trx) => {
          await this.deps.fence(trx);
          await writeSnapshot(trx, snap);
        });
        this.last = text;
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message }, 'could not publish the runtime state');
      }
    });
  }
}

/**
 * The route table as routers following the control plane get it (decision 023): a new version
 * only when the routes change, so that the published snapshot stays the same while nothing does.
 * Versions are times in ms (at least one more than the last): a new holder's are newer than its
 * predecessor's, which routers require.
 */
export class PublishedRoutes {
  private table: RouteTable = { version: 0, routes: [] };
  private text = '';

  constructor(private readonly routes: () => Route[]) {}

  current(): RouteTable {
    const routes = this.routes();
    const text = JSON.stringify(routes);
    if (text !== this.text) {
      this.text = text;
      this.table = { version: Math.max(this.table.version + 1, Date.now()), routes };
    }
    return this.table;
  }
}
