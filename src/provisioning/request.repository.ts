import { type Selectable, sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';
import type { HostingRequestTable, RequestState } from './provisioning.tables.ts';

/** A request as read: the table's columns (as Kysely selects them) and its department's code. */
export type RequestRow = Selectable<HostingRequestTable> & { department_code: string };

/** Requests with their department's code; `scope` limits them to one department (null: all). */
function scoped(db: Executor, scope: string | null) {
  const q = db
    .selectFrom('hosting_requests as r')
    .innerJoin('departments', 'departments.id', 'r.department_id')
    .selectAll('r')
    // A date column comes back as a Date at local midnight from pg: text keeps the day as written.
    .select([
      sql<string>`to_char(r.go_live, 'YYYY-MM-DD')`.as('go_live'),
      'departments.code as department_code',
    ]);
  return scope === null ? q : q.where('r.department_id', '=', scope);
}

const jsonb = (v: unknown) => sql<string>`${JSON.stringify(v)}::text::jsonb`;

const normalise = (r: RequestRow): RequestRow => ({
  ...r,
  lead_time_ms: r.lead_time_ms === null ? null : Number(r.lead_time_ms),
});

export async function list(
  db: Executor,
  scope: string | null,
  page: Page,
  filter: { state?: RequestState; departmentId?: string },
) {
  let q = scoped(db, scope);
  if (filter.state) q = q.where('r.state', '=', filter.state);
  if (filter.departmentId) q = q.where('r.department_id', '=', filter.departmentId);
  const items = await q
    .orderBy('r.submitted_at', 'desc')
    .orderBy('r.id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const { n } = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { items: (items as RequestRow[]).map(normalise), total: Number(n) };
}

/** One request as `scope` may see it; `lock` holds it until the transaction ends. */
export async function find(db: Executor, scope: string | null, id: string, lock = false) {
  let q = scoped(db, scope).where('r.id', '=', id);
  if (lock) q = q.forUpdate('r');
  const row = (await q.executeTakeFirst()) as RequestRow | undefined;
  return row ? normalise(row) : undefined;
}

/** A pending request for this service name in the department, if one waits. */
export async function findPending(db: Executor, departmentId: string, slug: string) {
  return db
    .selectFrom('hosting_requests')
    .select('id')
    .where('department_id', '=', departmentId)
    .where('slug', '=', slug)
    .where('state', '=', 'pending')
    .executeTakeFirst();
}

/** What a submission writes; the rest is set by the table's defaults or by later decisions. */
export type NewRequestRow = Omit<
  RequestRow,
  | 'id'
  | 'department_code'
  | 'state'
  | 'decided_by'
  | 'auto_approved'
  | 'reject_reason'
  | 'service_id'
  | 'hostname'
  | 'approved_at'
  | 'rejected_at'
  | 'cancelled_at'
  | 'lead_time_ms'
  | 'updated_at'
>;

export async function insert(db: Executor, row: NewRequestRow): Promise<string> {
  const { id } = await db
    .insertInto('hosting_requests')
    .values({
      ...row,
      environment: jsonb(row.environment),
      reasons: jsonb(row.reasons),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

export async function setReasons(db: Executor, id: string, reasons: string[]) {
  await db
    .updateTable('hosting_requests')
    .set({ reasons: jsonb(reasons), updated_at: new Date() })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .execute();
}

export async function markApproved(
  db: Executor,
  id: string,
  v: { decidedBy: string; auto: boolean; serviceId: string; hostname: string; at: Date; leadTimeMs: number },
) {
  await db
    .updateTable('hosting_requests')
    .set({
      state: 'approved',
      reasons: jsonb([]),
      decided_by: v.decidedBy,
      auto_approved: v.auto,
      service_id: v.serviceId,
      hostname: v.hostname,
      approved_at: v.at,
      lead_time_ms: v.leadTimeMs,
      updated_at: v.at,
    })
    .where('id', '=', id)
    .execute();
}

export async function markRejected(
  db: Executor,
  id: string,
  v: { decidedBy: string; reason: string; at: Date },
) {
  await db
    .updateTable('hosting_requests')
    .set({
      state: 'rejected',
      decided_by: v.decidedBy,
      reject_reason: v.reason,
      rejected_at: v.at,
      updated_at: v.at,
    })
    .where('id', '=', id)
    .execute();
}

export async function markCancelled(db: Executor, id: string, at: Date) {
  await db
    .updateTable('hosting_requests')
    .set({ state: 'cancelled', cancelled_at: at, updated_at: at })
    .where('id', '=', id)
    .execute();
}

/** Lead times of provisioned requests in `scope`, oldest first. */
export async function leadTimes(db: Executor, scope: string | null) {
  let q = db
    .selectFrom('hosting_requests')
    .select(['approved_at', 'lead_time_ms'])
    .where('state', '=', 'approved')
    .orderBy('approved_at');
  if (scope !== null) q = q.where('department_id', '=', scope);
  const rows = await q.execute();
  return rows.map((r) => ({ at: r.approved_at as Date, ms: Number(r.lead_time_ms) }));
}
