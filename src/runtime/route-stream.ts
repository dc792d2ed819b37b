import type { Db } from '../platform/database.ts';
import type { RouteTable } from '../router/route-table.ts';
import { authorize, type Principal } from '../tenancy/principal.ts';
import { liveState } from './live-state.repository.ts';

/** How often a waiting request reads the published table: a change reaches routers within this. */
const READ_EVERY_MS = 200;

/**
 * The route table once its version is newer than `after`, waiting up to `waitMs` for one (a long
 * poll: any replica answers it from the table the runtime lease's holder publishes); null when
 * none came in time or the caller went away.
 */
export async function nextRouteTable(
  db: Db,
  caller: Principal,
  after: number,
  waitMs: number,
  signal: AbortSignal,
): Promise<RouteTable | null> {
  authorize(caller, 'routes:read');
  const deadline = Date.now() + waitMs;
  while (!signal.aborted) {
    const table = (await liveState(db, 'routes')) as RouteTable | null;
    if (table && table.version > after) return table;
    if (Date.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, Math.min(READ_EVERY_MS, deadline - Date.now())));
  }
  return null;
}
