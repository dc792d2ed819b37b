import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';

/**
 * Outages: the intervals in which a service's probes through the router failed. They are the
 * one record of downtime: the status page, the SLA report and service-down incidents read them.
 * An outage starts at its first failed probe and ends at the first successful one after it.
 */
export interface Outage {
  id: string;
  serviceId: string;
  startedAt: Date;
  /** Null while the service is still down. */
  endedAt: Date | null;
  /** The last failure seen, e.g. `HTTP 503`. */
  cause: string;
}

const columns = ['id', 'service_id', 'started_at', 'ended_at', 'cause'] as const;

function toOutage(r: {
  id: string;
  service_id: string;
  started_at: Date;
  ended_at: Date | null;
  cause: string;
}): Outage {
  return { id: r.id, serviceId: r.service_id, startedAt: r.started_at, endedAt: r.ended_at, cause: r.cause };
}

export async function openOutage(
  db: Executor,
  serviceId: string,
  startedAt: Date,
  cause: string,
): Promise<Outage> {
  const row = await db
    .insertInto('service_outages')
    .values({ service_id: serviceId, started_at: startedAt, cause })
    .returning(columns)
    .executeTakeFirstOrThrow();
  return toOutage(row);
}

export async function closeOutage(db: Executor, id: string, endedAt: Date): Promise<void> {
  await db.updateTable('service_outages').set({ ended_at: endedAt }).where('id', '=', id).execute();
}

/** The open outage of each service that has one (after a restart, the engine resumes them). */
export async function openOutages(db: Executor): Promise<Outage[]> {
  const rows = await db.selectFrom('service_outages').select(columns).where('ended_at', 'is', null).execute();
  return rows.map(toOutage);
}

/** Outages of these services that overlap [from, to). */
export async function outagesBetween(
  db: Executor,
  serviceIds: string[],
  from: Date,
  to: Date,
): Promise<Outage[]> {
  if (serviceIds.length === 0) return [];
  const rows = await db
    .selectFrom('service_outages')
    .select(columns)
    .where('service_id', 'in', serviceIds)
    .where('started_at', '<', to)
    .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>', from)]))
    .orderBy('started_at')
    .execute();
  return rows.map(toOutage);
}

/** Closes every open outage at `at` (the platform stops probing a service: it is not down any more). */
export async function closeOutagesOf(db: Executor, serviceId: string, at: Date): Promise<void> {
  await db
    .updateTable('service_outages')
    .set({ ended_at: sql<Date>`greatest(started_at, ${at})` })
    .where('service_id', '=', serviceId)
    .where('ended_at', 'is', null)
    .execute();
}
