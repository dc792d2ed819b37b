import type { Executor } from '../platform/database.ts';
import type { LifecycleState } from './catalog.tables.ts';

/**
 * The history of each service's lifecycle states. Other capabilities read it through
 * `activeSpans` (the SLA report and the status page), never the table.
 */

/** Records that a service entered `state`; `at` defaults to the transaction's time (`now()`). */
export async function recordLifecycle(
  db: Executor,
  serviceId: string,
  state: LifecycleState,
  at?: Date,
): Promise<void> {
  await db.insertInto('service_lifecycle').values({ service_id: serviceId, state, at }).execute();
}

export interface LifecycleEvent {
  state: LifecycleState;
  at: Date;
}

/** A half-open stretch [start, end) of time. */
export interface Span {
  start: Date;
  end: Date;
}

/**
 * The stretches inside [from, to) that a service with these state changes (oldest first) was
 * `active`. Before its first recorded change a service did not exist; after its last one it
 * stays in that state.
 */
export function activeSpansOf(events: readonly LifecycleEvent[], from: Date, to: Date): Span[] {
  const out: Span[] = [];
  const lo = from.getTime();
  const hi = to.getTime();
  events.forEach((e, i) => {
    if (e.state !== 'active') return;
    const next = events[i + 1];
    const start = Math.max(e.at.getTime(), lo);
    const end = Math.min(next ? next.at.getTime() : hi, hi);
    if (end <= start) return;
    const last = out.at(-1);
    // active -> active (not a transition the catalogue allows, but harmless) is one stretch.
    if (last && last.end.getTime() >= start) last.end = new Date(Math.max(last.end.getTime(), end));
    else out.push({ start: new Date(start), end: new Date(end) });
  });
  return out;
}

// Keeps each `in (...)` list well under PostgreSQL's 65,535 parameters.
const CHUNK = 5_000;

/**
 * For each of `serviceIds`, the stretches inside [from, to) it was `active`, oldest first; a
 * service never active in the period has no entry. One read per 5,000 services.
 */
export async function activeSpans(
  db: Executor,
  serviceIds: readonly string[],
  from: Date,
  to: Date,
): Promise<Map<string, Span[]>> {
  const eventsOf = new Map<string, LifecycleEvent[]>();
  for (let i = 0; i < serviceIds.length; i += CHUNK) {
    const rows = await db
      .selectFrom('service_lifecycle')
      .select(['service_id', 'state', 'at'])
      .where('service_id', 'in', serviceIds.slice(i, i + CHUNK))
      // Changes before the period too: the state at its start is the last one before it.
      .where('at', '<', to)
      .orderBy('service_id')
      .orderBy('at')
      .orderBy('id')
      .execute();
    for (const r of rows) {
      const list = eventsOf.get(r.service_id);
      const event = { state: r.state, at: r.at };
      if (list) list.push(event);
      else eventsOf.set(r.service_id, [event]);
    }
  }
  const out = new Map<string, Span[]>();
  for (const [id, events] of eventsOf) {
    const spans = activeSpansOf(events, from, to);
    if (spans.length > 0) out.set(id, spans);
  }
  return out;
}
