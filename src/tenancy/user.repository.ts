import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';
import type { Role } from './roles.ts';
import type { Locale } from './tenancy.tables.ts';

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  department_id: string | null;
  department_code: string | null;
  role: Role;
  password_hash: string | null;
  disabled: boolean;
  locale: Locale | null;
  created_at: Date;
  updated_at: Date;
}

/** Users with their department's code; `scope` limits them to one department (null: all). */
function scoped(db: Executor, scope: string | null) {
  const q = db
    .selectFrom('users')
    .leftJoin('departments', 'departments.id', 'users.department_id')
    .selectAll('users')
    .select('departments.code as department_code');
  return scope === null ? q : q.where('users.department_id', '=', scope);
}

export async function list(
  db: Executor,
  scope: string | null,
  page: Page,
  filter: { departmentId?: string } = {},
) {
  let q = scoped(db, scope);
  if (filter.departmentId) q = q.where('users.department_id', '=', filter.departmentId);
  const items = await q.orderBy('users.username').limit(page.limit).offset(page.offset).execute();
  const { n } = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { items: items as UserRow[], total: Number(n) };
}

export async function findByUsername(db: Executor, scope: string | null, username: string) {
  return (await scoped(db, scope).where('users.username', '=', username).executeTakeFirst()) as
    | UserRow
    | undefined;
}

export async function findById(db: Executor, id: string) {
  return (await scoped(db, null).where('users.id', '=', id).executeTakeFirst()) as UserRow | undefined;
}

export async function insert(
  db: Executor,
  row: {
    username: string;
    display_name: string;
    email: string | null;
    department_id: string | null;
    role: Role;
    password_hash: string | null;
  },
): Promise<string> {
  const { id } = await db.insertInto('users').values(row).returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function update(
  db: Executor,
  id: string,
  patch: Partial<{
    display_name: string;
    email: string | null;
    role: Role;
    password_hash: string;
    disabled: boolean;
    locale: Locale | null;
  }>,
): Promise<void> {
  await db
    .updateTable('users')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

export async function countByRole(db: Executor, role: Role): Promise<number> {
  const { n } = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', role)
    .where('disabled', '=', false)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** The e-mail addresses of enabled users among `usernames` who belong to `departmentId` or to the central team. */
export async function emailsOf(db: Executor, departmentId: string, usernames: string[]) {
  if (usernames.length === 0) return [];
  const rows = await db
    .selectFrom('users')
    .select(['username', 'email'])
    .where('username', 'in', usernames)
    .where('disabled', '=', false)
    .where('email', 'is not', null)
    .where((eb) => eb.or([eb('department_id', 'is', null), eb('department_id', '=', departmentId)]))
    .orderBy('username')
    .execute();
  return rows as { username: string; email: string }[];
}
