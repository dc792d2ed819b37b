import { type AdminSource, MAX_TABLE_BYTES } from './admin.ts';
import type { Log } from './log.ts';
import { parseRouteTable } from './route-validate.ts';

/** Where the router gets its route table from when it follows the control plane (decision 023). */
export interface ControlPlaneSource {
  /** The API's base URL (any replica, or the balancer in front of them), e.g. `https://api.gov:7070`. */
  url: string;
  /** An API token allowed `routes:read` (an operator's read-only token). */
  token: string;
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
        const result = await source.update(parsed.table);
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
