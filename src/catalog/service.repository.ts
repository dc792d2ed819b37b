import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';
import type { Channel, LifecycleState, Origin } from './catalog.tables.ts';
import { recordLifecycle } from './lifecycle.repository.ts';

export interface ServiceRow {
  id: string;
  department_id: string;
  department_code: string;
  slug: string;
  name_en: string;
  name_zh: string;
  description: string;
  origin: Origin;
  egis_ref: string | null;
  channels: Channel[];
  personalised: boolean;
  sla_tier: string;
  lifecycle: LifecycleState;
  created_at: Date;
  updated_at: Date;
}

/** Services with their department's code; `scope` limits them to one department (null: all). */
function scoped(db: Executor, scope: string | null) {
  const q = db
    .selectFrom('services')
    .innerJoin('departments', 'departments.id', 'services.department_id')
    .selectAll('services')
    .select('departments.code as department_code');
  return scope === null ? q : q.where('services.department_id', '=', scope);
}

export interface ServiceFilter {
  departmentId?: string;
  lifecycle?: LifecycleState;
  origin?: Origin;
}

export async function list(db: Executor, scope: string | null, page: Page, filter: ServiceFilter) {
  let q = scoped(db, scope);
  if (filter.departmentId) q = q.where('services.department_id', '=', filter.departmentId);
  if (filter.lifecycle) q = q.where('services.lifecycle', '=', filter.lifecycle);
  if (filter.origin) q = q.where('services.origin', '=', filter.origin);
  const items = await q
    .orderBy('departments.code')
    .orderBy('services.slug')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const { n } = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { items: items as ServiceRow[], total: Number(n) };
}

export async function find(db: Executor, scope: string | null, departmentId: string, slug: string) {
  return (await scoped(db, scope)
    .where('services.department_id', '=', departmentId)
    .where('services.slug', '=', slug)
    .executeTakeFirst()) as ServiceRow | undefined;
}

export async function findById(db: Executor, id: string) {
  return (await scoped(db, null).where('services.id', '=', id).executeTakeFirst()) as ServiceRow | undefined;
}

export interface ServiceValues {
  department_id: string;
  slug: string;
  name_en: string;
  name_zh: string;
  description: string;
  origin: Origin;
  egis_ref: string | null;
  channels: Channel[];
  personalised: boolean;
  sla_tier: string;
}

/** Inserts a service and, in the same transaction, the first entry of its lifecycle history. */
export async function insert(db: Executor, row: ServiceValues): Promise<string> {
  const { id, lifecycle, created_at } = await db
    .insertInto('services')
    .values(row)
    .returning(['id', 'lifecycle', 'created_at'])
    .executeTakeFirstOrThrow();
  await recordLifecycle(db, id, lifecycle, created_at);
  return id;
}

export async function update(
  db: Executor,
  id: string,
  patch: Partial<Omit<ServiceValues, 'department_id' | 'slug' | 'origin'> & { lifecycle: LifecycleState }>,
): Promise<void> {
  await db
    .updateTable('services')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

export async function remove(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('services').where('id', '=', id).execute();
}

/** Services of a department that count against its quota: all but the retired. */
export async function countLive(db: Executor, departmentId: string): Promise<number> {
  const { n } = await db
    .selectFrom('services')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('department_id', '=', departmentId)
    .where('lifecycle', '!=', 'retired')
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Slugs by id, for presenting other capabilities' rows (a service that is gone is left out). */
export async function slugsById(db: Executor, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('services').select(['id', 'slug']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.slug]));
}
