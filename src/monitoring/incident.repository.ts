import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';
import type { IncidentEventKind, IncidentEventTable, IncidentTable } from './monitoring.tables.ts';

export type IncidentRow = Omit<IncidentTable, 'id'> & { id: number };
export type IncidentEventRow = Omit<IncidentEventTable, 'id' | 'at'> & { id: number; at: Date };

export async function insertIncident(db: Executor, row: Omit<IncidentRow, 'id'>): Promise<IncidentRow> {
  return db.insertInto('incidents').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function openIncidentOf(db: Executor, serviceId: string, rule: string) {
  return db
    .selectFrom('incidents')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('rule', '=', rule)
    .where('state', '=', 'open')
    .executeTakeFirst();
}

/** The newest incident of a service's rule resolved at or after `since`, if any. */
export async function resolvedIncidentSince(db: Executor, serviceId: string, rule: string, since: Date) {
  return db
    .selectFrom('incidents')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('rule', '=', rule)
    .where('state', '=', 'resolved')
    .where('resolved_at', '>=', since)
    .orderBy('resolved_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The incident as the caller may see it: `scope` null for every department. */
export async function findIncident(db: Executor, scope: string | null, id: number, forUpdate = false) {
  let q = db.selectFrom('incidents').selectAll().where('id', '=', id);
  if (scope !== null) q = q.where('department_id', '=', scope);
  if (forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function updateIncident(
  db: Executor,
  id: number,
  patch: Partial<Omit<IncidentRow, 'id' | 'service_id' | 'department_id'>>,
): Promise<IncidentRow> {
  return db.updateTable('incidents').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function listIncidents(
  db: Executor,
  scope: string | null,
  filter: { state: 'open' | 'resolved' | 'all'; serviceId?: string },
  page: Page,
) {
  let q = db.selectFrom('incidents');
  if (scope !== null) q = q.where('department_id', '=', scope);
  if (filter.state !== 'all') q = q.where('state', '=', filter.state);
  if (filter.serviceId) q = q.where('service_id', '=', filter.serviceId);
  const items = await q.selectAll().orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute();
  const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { items, total: Number(n) };
}

export async function insertEvent(
  db: Executor,
  row: {
    incident_id: number;
    kind: IncidentEventKind;
    actor_id: string | null;
    actor_name: string;
    detail: string;
    at: Date;
  },
): Promise<IncidentEventRow> {
  return db.insertInto('incident_events').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function eventsOf(db: Executor, incidentId: number): Promise<IncidentEventRow[]> {
  return db
    .selectFrom('incident_events')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .orderBy('id')
    .execute();
}

/** Incidents opened in [from, to) per service id; services with none are absent. */
export async function incidentCountsBetween(
  db: Executor,
  serviceIds: string[],
  from: Date,
  to: Date,
): Promise<Map<string, number>> {
  if (serviceIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('incidents')
    .select(['service_id', db.fn.countAll<string>().as('n')])
    .where('service_id', 'in', serviceIds)
    .where('opened_at', '>=', from)
    .where('opened_at', '<', to)
    .groupBy('service_id')
    .execute();
  return new Map(rows.map((r) => [r.service_id, Number(r.n)]));
}
