import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';

export interface DepartmentRow {
  id: string;
  code: string;
  name_en: string;
  name_zh: string;
  created_at: Date;
  updated_at: Date;
}

/** `scope` is a department id (a department user sees only its own) or null for every department. */
function scoped(db: Executor, scope: string | null) {
  const q = db.selectFrom('departments').selectAll();
  return scope === null ? q : q.where('id', '=', scope);
}

export async function list(db: Executor, scope: string | null, page: Page) {
  const items = await scoped(db, scope).orderBy('code').limit(page.limit).offset(page.offset).execute();
  const { n } = await scoped(db, scope)
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { items: items as DepartmentRow[], total: Number(n) };
}

export async function findByCode(db: Executor, scope: string | null, code: string) {
  return (await scoped(db, scope).where('code', '=', code).executeTakeFirst()) as DepartmentRow | undefined;
}

export async function findById(db: Executor, id: string) {
  return (await db.selectFrom('departments').selectAll().where('id', '=', id).executeTakeFirst()) as
    | DepartmentRow
    | undefined;
}

export async function findManyById(db: Executor, ids: string[]) {
  if (ids.length === 0) return [];
  return db.selectFrom('departments').select(['id', 'code']).where('id', 'in', ids).execute();
}

export async function insert(db: Executor, row: { code: string; name_en: string; name_zh: string }) {
  return (await db
    .insertInto('departments')
    .values(row)
    .returningAll()
    .executeTakeFirstOrThrow()) as DepartmentRow;
}

export async function update(db: Executor, id: string, patch: { name_en?: string; name_zh?: string }) {
  return (await db
    .updateTable('departments')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()) as DepartmentRow;
}

export async function remove(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('departments').where('id', '=', id).execute();
}
