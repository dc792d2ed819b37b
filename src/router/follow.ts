import { resolve, sep } from 'node:path';
import { type AdminSource, MAX_TABLE_BYTES } from './admin.ts';
import type { Log } from './log.ts';
import type { RouteTable } from './route-table.ts';
import { parseRouteTable } from './route-validate.ts';

/** Where the router gets its route table from when it follows the control plane (decision 023). */
export interface ControlPlaneSource {
  /** The API's base URL (any replica, or the balancer in front of them), e.g. `https://api.gov:7070`. */
  url: string;
  /** An API token allowed `routes:read`: a router token (`govhost tokens create-router`). */
  token: string;
  /**
   * The folder static routes must be under (absolute); null: static routes are refused. The
   * control plane's release folders are under its apps folder (`<data>/apps/<service>/v<N>`).
   */
  staticRoot?: string | null;
}

/**
 * The table without its static routes outside `root` (all of them when there is none), and the
 * host names dropped: a control plane, or anyone between, must not make the router serve /etc.
 */
export function withinStaticRoot(
  table: RouteTable,
  root: string | null,
): { table: RouteTable; refused: string[] } {
  const refused: string[] = [];
  const base = root === null ? null : resolve(root);
  const routes = table.routes.filter((r) => {
    if (r.kind !== 'static') return true;
    // The path as the file system will walk it: `..` cannot climb out after this check.
    const dir = resolve(r.staticRoot ?? '');
    const ok = base !== null && (dir === base || dir.startsWith(base.endsWith(sep) ? base : base + sep));
    if (!ok) refused.push(r.hostname);
    return ok;
  });
  // The rest of the table (certificates, ACME challenges) goes on as it came.
  return refused.length === 0 ? { table, refused } : { table: { ...table, routes }, refused };
}

const RETRY_MS = 1_000;
/**
 * A "nothing newer" answer sooner than this after asking is not a long poll (a proxy that answers
 * at once, a replica that ignores `after`): the next question waits, so the loop cannot spin.
 */
const MIN_POLL_MS = 1_000;

/**
 * The body, read as it arrives and dropped past `max` bytes: a chunked answer has no length to
 * check first, and the router's memory must not depend on what the other side sends.
 */
async function boundedText(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    // Leaving the loop by throwing cancels the stream: the rest is not read.
    if (size > max) throw new Error(`a table of more than ${max} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Follows the control plane's route table: long-polls `GET /api/v1/runtime/routes?after=<held>`,
 * checks each table exactly as the admin API checks a pushed one, and applies it through the same
 * store (which writes the state file, so the table outlives a restart of the router). While the
 * control plane cannot be reached the router keeps serving its last table and asks again every
 * second. Returns how to stop.
 */
export function followControlPlane(
  cp: ControlPlaneSource,
  source: Pick<AdminSource, 'table' | 'update'>,
  log: Log,
): () => void {
  const stop = new AbortController();
  const base = cp.url.replace(/\/+$/, '');
  const pause = () => new Promise((r) => setTimeout(r, RETRY_MS).unref());
  let failing = false;
  const fail = (why: string) => {
    // Said once per outage, not once per second.
    if (!failing)
      log.warn({ controlPlane: base, why }, 'cannot follow the control plane: keeping the last route table');
    failing = true;
  };
  void (async () => {
    while (!stop.signal.aborted) {
      const asked = Date.now();
      try {
        const res = await fetch(`${base}/api/v1/runtime/routes?after=${source.table().version}&waitSec=25`, {
          headers: { authorization: `Bearer ${cp.token}`, accept: 'application/json' },
          redirect: 'error',
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(35_000)]),
        });
        if (res.status === 204) {
          await res.body?.cancel();
          const early = MIN_POLL_MS - (Date.now() - asked);
          if (early > 0) await new Promise((r) => setTimeout(r, early).unref());
          continue;
        }
        const length = Number(res.headers.get('content-length') ?? 0);
        if (res.status !== 200 || !(length <= MAX_TABLE_BYTES)) {
          await res.body?.cancel();
          fail(`answered ${res.status}${length > MAX_TABLE_BYTES ? ` with ${length} bytes` : ''}`);
          await pause();
          continue;
        }
        const text = await boundedText(res.body, MAX_TABLE_BYTES);
        const parsed = parseRouteTable(JSON.parse(text));
        if (!parsed.ok) throw new Error(`an invalid table: ${parsed.errors.slice(0, 3).join('; ')}`);
        const { table, refused } = withinStaticRoot(parsed.table, cp.staticRoot ?? null);
        if (refused.length > 0)
          log.warn(
            { version: table.version, hostnames: refused, staticRoot: cp.staticRoot ?? null },
            'static routes outside GOVHOST_ROUTER_STATIC_ROOT refused; the rest of the table applied',
          );
        const result = await source.update(table);
        if (failing) log.info({ controlPlane: base }, 'following the control plane again');
        failing = false;
        if (result === 'applied')
          log.info(
            { version: parsed.table.version, routes: parsed.table.routes.length },
            'route table from the control plane',
          );
        // A stale or conflicting table (an older holder's) is not applied; the next one will be.
        else if (result !== 'unchanged') {
          log.warn(
            { version: parsed.table.version, result },
            'route table from the control plane not applied',
          );
          await pause();
        }
      } catch (err) {
        if (stop.signal.aborted) break;
        fail((err as Error).message);
        await pause();
      }
    }
  })();
  return () => stop.abort();
}
