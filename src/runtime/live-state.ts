import { openKeys } from '../edge/certificates.logic.ts';
import type { Db, Executor } from '../platform/database.ts';
import type { SecretBox } from '../platform/secrets.ts';
import type { RouteTable } from '../router/route-table.ts';
import type { RouterControl } from './driver.ts';
import { type LiveSnapshot, nextRouteVersion, writeSnapshot } from './live-state.repository.ts';

/** What a snapshot publishes of a route table: its routes, and its certificates with their keys still sealed. */
export const publishedTable = (t: RouteTable): Pick<LiveSnapshot, 'routes' | 'certificates'> => ({
  routes: t.routes,
  ...(t.certificates ? { certificates: t.certificates } : {}),
});

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
 * A router control whose pushes carry versions from the store (decision 028), not from this
 * replica's clock: a new holder's tables are newer than its predecessor's whatever the clocks say.
 * A router that already holds a higher version (set by an earlier release's clock) makes the
 * counter jump past it, and gets the table again.
 */
export function storeVersioned(
  db: Db,
  client: RouterVersionedControl,
  pushed: () => void,
  /** Opens the certificates' sealed keys: the table is handed to a router here, and only here. */
  open: (t: RouteTable) => RouteTable = (t) => t,
): RouterControl {
  return {
    putRoutes: async (sealed) => {
      pushed();
      const t = open(sealed);
      const held = await client.putRoutesHeld({ ...t, version: await nextRouteVersion(db) });
      if (held !== null) await client.putRoutesHeld({ ...t, version: await nextRouteVersion(db, held) });
    },
    inflight: () => client.inflight(),
  };
}

/** What storeVersioned needs of a router: a push that says which newer version it refused for. */
export interface RouterVersionedControl {
  /** Null once applied (or already held); the router's version when it holds a newer one. */
  putRoutesHeld(table: RouteTable): Promise<number | null>;
  inflight(): Promise<Record<string, number>>;
}

/**
 * The table with its certificates' keys opened, for a router (the admin push, the route stream's
 * answer); the stored and published copies keep them sealed (decision 031).
 */
export const withOpenKeys = (table: RouteTable, box: SecretBox): RouteTable =>
  table.certificates ? { ...table, certificates: openKeys(table.certificates, box) } : table;
