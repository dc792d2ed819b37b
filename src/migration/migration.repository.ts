import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';
import type {
  ItemState,
  MigrationItemTable,
  MigrationStepTable,
  MigrationWaveTable,
} from './migration.tables.ts';

export type WaveRow = Selectable<MigrationWaveTable>;
/** An item as read, with its department's code, its target's slug and its wave's number. */
export type ItemRow = Selectable<MigrationItemTable> & {
  department_code: string;
  target_slug: string | null;
  wave_number: number | null;
};

export interface ItemFilter {
  departmentId?: string;
  waveId?: string;
  state?: ItemState;
}

// ---- waves: the programme's, not a department's (every role reads them) ----

export const listWaves = (db: Executor) =>
  db.selectFrom('migration_waves').selectAll().orderBy('number').execute();

export const findWave = (db: Executor, number: number) =>
  db.selectFrom('migration_waves').selectAll().where('number', '=', number).executeTakeFirst();

export async function insertWave(db: Executor, row: Insertable<MigrationWaveTable>): Promise<void> {
  await db.insertInto('migration_waves').values(row).execute();
}

export async function updateWave(db: Executor, id: string, set: Updateable<MigrationWaveTable>) {
  await db.updateTable('migration_waves').set(set).where('id', '=', id).execute();
}

// ---- items: a department's; `scope` null is every department (platform roles) ----

function scoped(db: Executor, scope: string | null) {
  const q = db
    .selectFrom('migration_items as i')
    .innerJoin('departments as d', 'd.id', 'i.department_id')
    .leftJoin('services as s', 's.id', 'i.target_service_id')
    .leftJoin('migration_waves as w', 'w.id', 'i.wave_id')
    .selectAll('i')
    .select(['d.code as department_code', 's.slug as target_slug', 'w.number as wave_number']);
  return scope === null ? q : q.where('i.department_id', '=', scope);
}

function filtered(db: Executor, scope: string | null, filter: ItemFilter) {
  let q = scoped(db, scope);
  if (filter.departmentId) q = q.where('i.department_id', '=', filter.departmentId);
  if (filter.waveId) q = q.where('i.wave_id', '=', filter.waveId);
  if (filter.state) q = q.where('i.state', '=', filter.state);
  return q;
}

export async function list(db: Executor, scope: string | null, page: Page, filter: ItemFilter) {
  const q = filtered(db, scope, filter);
  const items = await q.orderBy('d.code').orderBy('i.ref').limit(page.limit).offset(page.offset).execute();
  const { n } = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { items: items as ItemRow[], total: Number(n) };
}

/** Every item the scope sees (for the burndown and the CSV import's reference checks). */
export async function all(db: Executor, scope: string | null, filter: ItemFilter = {}) {
  return (await filtered(db, scope, filter).orderBy('d.code').orderBy('i.ref').execute()) as ItemRow[];
}

/** The item `ref` of a department as `scope` may see it; `lock` holds it to the transaction's end. */
export async function find(
  db: Executor,
  scope: string | null,
  departmentId: string,
  ref: string,
  lock = false,
) {
  let q = scoped(db, scope).where('i.department_id', '=', departmentId).where('i.ref', '=', ref);
  if (lock) q = q.forUpdate('i');
  return (await q.executeTakeFirst()) as ItemRow | undefined;
}

export async function insertItem(db: Executor, row: Insertable<MigrationItemTable>): Promise<string> {
  const { id } = await db.insertInto('migration_items').values(row).returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function updateItem(db: Executor, id: string, set: Updateable<MigrationItemTable>) {
  await db.updateTable('migration_items').set(set).where('id', '=', id).execute();
}

// ---- dependencies and steps, of items already resolved within the caller's scope ----

export async function setDependencies(db: Executor, itemId: string, dependsOn: string[]): Promise<void> {
  await db.deleteFrom('migration_dependencies').where('item_id', '=', itemId).execute();
  if (dependsOn.length === 0) return;
  await db
    .insertInto('migration_dependencies')
    .values(dependsOn.map((d) => ({ item_id: itemId, depends_on_id: d })))
    .execute();
}

/** What each of `itemIds` depends on, as `DEPT/ref` with the dependency's state. */
export async function dependenciesOf(db: Executor, itemIds: string[]) {
  if (itemIds.length === 0) return [];
  return db
    .selectFrom('migration_dependencies as m')
    .innerJoin('migration_items as i', 'i.id', 'm.depends_on_id')
    .innerJoin('departments as d', 'd.id', 'i.department_id')
    .select(['m.item_id', 'd.code as department_code', 'i.ref', 'i.state'])
    .where('m.item_id', 'in', itemIds)
    .orderBy('d.code')
    .orderBy('i.ref')
    .execute();
}

export async function insertStep(db: Executor, row: Insertable<MigrationStepTable>): Promise<void> {
  await db.insertInto('migration_steps').values(row).execute();
}

export const stepsOf = (db: Executor, itemId: string) =>
  db
    .selectFrom('migration_steps')
    .selectAll()
    .where('item_id', '=', itemId)
    .orderBy('at')
    .orderBy('id')
    .execute();
