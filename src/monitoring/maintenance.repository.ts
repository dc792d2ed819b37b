import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';

export interface MaintenanceRow {
  id: string;
  service_id: string | null;
  department_id: string | null;
  title: string;
  message: string;
  starts_at: Date;
  ends_at: Date;
  created_by: string;
  created_at: Date;
  cancelled_at: Date | null;
}

const columns = [
  'id',
  'service_id',
  'department_id',
  'title',
  'message',
  'starts_at',
  'ends_at',
  'created_by',
  'created_at',
  'cancelled_at',
] as const;

/**
 * Notices a caller may see: a department user sees its department's and the platform-wide ones
 * (`scope` is its department id); platform roles (`scope` null) see all.
 */
function scoped(db: Executor, scope: string | null) {
  const q = db.selectFrom('maintenance_notices').select(columns);
  return scope === null
    ? q
    : q.where((eb) => eb.or([eb('department_id', '=', scope), eb('department_id', 'is', null)]));
}

export async function insert(
  db: Executor,
  row: {
    service_id: string | null;
    department_id: string | null;
    title: string;
    message: string;
    starts_at: Date;
    ends_at: Date;
    created_by: string;
  },
): Promise<MaintenanceRow> {
  return db.insertInto('maintenance_notices').values(row).returning(columns).executeTakeFirstOrThrow();
}

export async function find(db: Executor, scope: string | null, id: string) {
  return scoped(db, scope).where('id', '=', id).executeTakeFirst();
}

export interface NoticeFilter {
  serviceId?: string;
  /** Only notices neither cancelled nor over at `now`. */
  currentAt?: Date;
}

export async function list(db: Executor, scope: string | null, page: Page, filter: NoticeFilter) {
  let q = scoped(db, scope);
  if (filter.serviceId) {
    const id = filter.serviceId;
    // A service's notices include the platform-wide ones: they take it down too.
    q = q.where((eb) => eb.or([eb('service_id', '=', id), eb('service_id', 'is', null)]));
  }
  if (filter.currentAt) q = q.where('cancelled_at', 'is', null).where('ends_at', '>', filter.currentAt);
  const items = await q.orderBy('starts_at').orderBy('id').limit(page.limit).offset(page.offset).execute();
  const { n } = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { items, total: Number(n) };
}

export async function cancel(db: Executor, id: string, at: Date): Promise<MaintenanceRow> {
  return db
    .updateTable('maintenance_notices')
    .set({ cancelled_at: at })
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirstOrThrow();
}

/** One window as it actually ran: a notice cancelled while under way ends at its cancellation. */
export interface MaintenanceWindow {
  /** Null: platform-wide. */
  serviceId: string | null;
  startsAt: Date;
  endsAt: Date;
}

/**
 * Windows that overlap [from, to) and apply to any of these services (platform-wide ones
 * included), in one query. A notice cancelled before it began never happened.
 */
export async function windowsBetween(
  db: Executor,
  serviceIds: string[] | 'all',
  from: Date,
  to: Date,
): Promise<MaintenanceWindow[]> {
  let q = db
    .selectFrom('maintenance_notices')
    .select([
      'service_id',
      'starts_at',
      sql<Date>`case when cancelled_at is not null and cancelled_at < ends_at then cancelled_at else ends_at end`.as(
        'effective_end',
      ),
    ])
    .where('starts_at', '<', to)
    .where('ends_at', '>', from)
    .where((eb) => eb.or([eb('cancelled_at', 'is', null), eb('cancelled_at', '>', eb.ref('starts_at'))]));
  if (serviceIds !== 'all') {
    if (serviceIds.length === 0) q = q.where('service_id', 'is', null);
    else q = q.where((eb) => eb.or([eb('service_id', 'in', serviceIds), eb('service_id', 'is', null)]));
  }
  const rows = await q.orderBy('starts_at').execute();
  return rows
    .map((r) => ({ serviceId: r.service_id, startsAt: r.starts_at, endsAt: new Date(r.effective_end) }))
    .filter((w) => w.endsAt > from);
}

/** Notices not cancelled and not over at `now`, for the status page. */
export async function currentAndUpcoming(db: Executor, now: Date): Promise<MaintenanceRow[]> {
  return db
    .selectFrom('maintenance_notices')
    .select(columns)
    .where('cancelled_at', 'is', null)
    .where('ends_at', '>', now)
    .orderBy('starts_at')
    .orderBy('id')
    .execute();
}
