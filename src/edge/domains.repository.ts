import type { Selectable } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';
import type { DomainSource, DomainState, ServiceDomainTable } from './domains.tables.ts';

/** A claim as read, with its service's `DEPT/slug`. */
export type DomainRow = Selectable<ServiceDomainTable> & { department_code: string; slug: string };

/** Claims with their service's names; `scope` limits them to one department (null: all). */
function scoped(db: Executor, scope: string | null) {
  const q = db
    .selectFrom('service_domains as d')
    .innerJoin('services', 'services.id', 'd.service_id')
    .innerJoin('departments', 'departments.id', 'd.department_id')
    .selectAll('d')
    .select(['departments.code as department_code', 'services.slug as slug']);
  return scope === null ? q : q.where('d.department_id', '=', scope);
}

/** A service's claims (the caller has resolved the service within its scope). */
export async function listForService(db: Executor, scope: string | null, serviceId: string) {
  return (await scoped(db, scope)
    .where('d.service_id', '=', serviceId)
    .orderBy('d.hostname')
    .execute()) as DomainRow[];
}

/** Claims of every department the scope allows, oldest first (the approval queue's order). */
export async function list(db: Executor, scope: string | null, page: Page, filter: { state?: DomainState }) {
  let q = scoped(db, scope);
  if (filter.state) q = q.where('d.state', '=', filter.state);
  const items = await q
    .orderBy('d.requested_at')
    .orderBy('d.hostname')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const { n } = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { items: items as DomainRow[], total: Number(n) };
}

/** The claim on `hostname` as `scope` may see it; `lock` holds it until the transaction ends. */
export async function find(db: Executor, scope: string | null, hostname: string, lock = false) {
  let q = scoped(db, scope).where('d.hostname', '=', hostname);
  if (lock) q = q.forUpdate('d');
  return (await q.executeTakeFirst()) as DomainRow | undefined;
}

/**
 * Who holds `hostname`, across every department: only for the uniqueness check, whose answer
 * names no other department's details.
 */
export async function holderOf(db: Executor, hostname: string) {
  return db
    .selectFrom('service_domains')
    .select(['service_id', 'department_id', 'state'])
    .where('hostname', '=', hostname)
    .executeTakeFirst();
}

export async function insert(
  db: Executor,
  row: {
    hostname: string;
    service_id: string;
    department_id: string;
    token: string;
    source: DomainSource;
    requested_by: string;
  },
): Promise<void> {
  await db.insertInto('service_domains').values(row).execute();
}

export async function decide(
  db: Executor,
  id: string,
  to: { state: 'approved' | 'rejected'; by: string; at: Date; reason: string | null },
): Promise<void> {
  await db
    .updateTable('service_domains')
    .set({ state: to.state, decided_by: to.by, decided_at: to.at, reject_reason: to.reason })
    .where('id', '=', id)
    .execute();
}

export async function remove(db: Executor, scope: string | null, id: string): Promise<void> {
  let q = db.deleteFrom('service_domains').where('id', '=', id);
  if (scope !== null) q = q.where('department_id', '=', scope);
  await q.execute();
}

/** Every approved claim: what the runtime routes. */
export async function approved(db: Executor) {
  return db
    .selectFrom('service_domains')
    .select(['service_id', 'hostname'])
    .where('state', '=', 'approved')
    .orderBy('hostname')
    .execute();
}
