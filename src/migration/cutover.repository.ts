import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { ServiceCutoverTable } from './cutover.tables.ts';

/** A cut-over as read, with its service's `DEPT/slug`. */
export type CutoverRow = Selectable<ServiceCutoverTable> & { department_code: string; slug: string };

/** Cut-overs with their service's names; `scope` limits them to one department (null: all). */
function scoped(db: Executor, scope: string | null) {
  const q = db
    .selectFrom('service_cutovers as c')
    .innerJoin('services', 'services.id', 'c.service_id')
    .innerJoin('departments', 'departments.id', 'c.department_id')
    .selectAll('c')
    .select(['departments.code as department_code', 'services.slug as slug']);
  return scope === null ? q : q.where('c.department_id', '=', scope);
}

/** A service's cut-over as `scope` may see it; `lock` holds it until the transaction ends. */
export async function find(db: Executor, scope: string | null, serviceId: string, lock = false) {
  let q = scoped(db, scope).where('c.service_id', '=', serviceId);
  if (lock) q = q.forUpdate('c');
  return (await q.executeTakeFirst()) as CutoverRow | undefined;
}

/** Every cut-over of every department: what the route table is built from (the runtime's). */
export async function all(db: Executor) {
  return (await scoped(db, null).orderBy('c.service_id').execute()) as CutoverRow[];
}

/** Sets a service's cut-over whole, replacing the one it had. */
export async function upsert(db: Executor, row: Insertable<ServiceCutoverTable>) {
  const { service_id: _id, ...rest } = row;
  await db
    .insertInto('service_cutovers')
    .values(row)
    .onConflict((oc) => oc.column('service_id').doUpdateSet({ ...rest, updated_at: new Date() }))
    .execute();
}

/** Changes the share (and who changed it) of a service's cut-over. */
export async function setPercent(db: Executor, serviceId: string, percent: number, by: string) {
  await db
    .updateTable('service_cutovers')
    .set({ percent, updated_by: by, updated_at: new Date() })
    .where('service_id', '=', serviceId)
    .execute();
}

export async function remove(db: Executor, serviceId: string) {
  await db.deleteFrom('service_cutovers').where('service_id', '=', serviceId).execute();
}
