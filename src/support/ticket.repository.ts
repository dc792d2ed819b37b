import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';
import type {
  Priority,
  TicketAttachmentTable,
  TicketEventTable,
  TicketStatus,
  TicketTable,
} from './ticket.tables.ts';

/** A ticket as read, with its department's code and its service's slug. */
export type TicketRow = Selectable<TicketTable> & { department_code: string; service_slug: string | null };
export type EventRow = Selectable<TicketEventTable>;

export interface TicketFilter {
  departmentId?: string;
  status?: TicketStatus;
  priority?: Priority;
  assignee?: string;
  /** Only tickets neither resolved nor closed. */
  open?: boolean;
}

// Every ticket query goes through here: `scope` null is every department (the central team).
function scoped(db: Executor, scope: string | null) {
  const q = db
    .selectFrom('tickets as t')
    .innerJoin('departments as d', 'd.id', 't.department_id')
    .leftJoin('services as s', 's.id', 't.service_id')
    .selectAll('t')
    .select(['d.code as department_code', 's.slug as service_slug']);
  return scope === null ? q : q.where('t.department_id', '=', scope);
}

export async function list(db: Executor, scope: string | null, page: Page, f: TicketFilter) {
  let q = scoped(db, scope);
  if (f.departmentId) q = q.where('t.department_id', '=', f.departmentId);
  if (f.status) q = q.where('t.status', '=', f.status);
  if (f.priority) q = q.where('t.priority', '=', f.priority);
  if (f.assignee) q = q.where('t.assignee_name', '=', f.assignee);
  if (f.open) q = q.where('t.status', 'not in', ['resolved', 'closed']);
  const items = await q.orderBy('t.id', 'desc').limit(page.limit).offset(page.offset).execute();
  const { n } = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { items: items as TicketRow[], total: Number(n) };
}

/** The ticket as `scope` may see it; `lock` holds it to the transaction's end. */
export async function find(db: Executor, scope: string | null, id: number, lock = false) {
  let q = scoped(db, scope).where('t.id', '=', id);
  if (lock) q = q.forUpdate('t');
  return (await q.executeTakeFirst()) as TicketRow | undefined;
}

/** Every open ticket of every department: the SLA job's round. */
export async function allOpen(db: Executor) {
  return (await scoped(db, null)
    .where('t.status', 'not in', ['resolved', 'closed'])
    .orderBy('t.id')
    .execute()) as TicketRow[];
}

/** Tickets raised in [from, to), of `scope`: the monthly report's. */
export async function raisedBetween(db: Executor, scope: string | null, from: Date, to: Date) {
  return (await scoped(db, scope)
    .where('t.raised_at', '>=', from)
    .where('t.raised_at', '<', to)
    .orderBy('t.id')
    .execute()) as TicketRow[];
}

export async function insert(db: Executor, row: Insertable<TicketTable>): Promise<number> {
  const { id } = await db.insertInto('tickets').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export async function update(db: Executor, id: number, set: Updateable<TicketTable>): Promise<void> {
  await db
    .updateTable('tickets')
    .set({ ...set, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

// ---- the timeline and attachments, of tickets already resolved within the caller's scope ----

export async function insertEvent(db: Executor, row: Insertable<TicketEventTable>): Promise<void> {
  await db.insertInto('ticket_events').values(row).execute();
}

/** The timeline, oldest first; without internal entries unless `internal`. */
export async function eventsOf(db: Executor, ticketIds: number[], internal: boolean): Promise<EventRow[]> {
  if (ticketIds.length === 0) return [];
  let q = db.selectFrom('ticket_events').selectAll().where('ticket_id', 'in', ticketIds);
  if (!internal) q = q.where('internal', '=', false);
  return q.orderBy('id').execute();
}

export async function insertAttachment(
  db: Executor,
  row: Insertable<TicketAttachmentTable>,
): Promise<string> {
  const { id } = await db
    .insertInto('ticket_attachments')
    .values(row)
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

export const attachmentsOf = (db: Executor, ticketId: number) =>
  db
    .selectFrom('ticket_attachments')
    .select(['id', 'filename', 'media_type', 'size_bytes', 'sha256', 'by_name', 'at'])
    .where('ticket_id', '=', ticketId)
    .orderBy('at')
    .execute();

export const attachment = (db: Executor, ticketId: number, id: string) =>
  db
    .selectFrom('ticket_attachments')
    .selectAll()
    .where('ticket_id', '=', ticketId)
    .where('id', '=', id)
    .executeTakeFirst();
