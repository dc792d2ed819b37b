import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';
import type {
  ConsoleNotificationTable,
  NotificationChannelTable,
  NotificationOutboxTable,
} from './monitoring.tables.ts';

export type ChannelRow = Omit<NotificationChannelTable, 'id' | 'created_at'> & {
  id: string;
  created_at: Date;
};
export type OutboxRow = Omit<
  NotificationOutboxTable,
  'id' | 'attempts' | 'created_at' | 'next_attempt_at'
> & {
  id: string;
  attempts: number;
  created_at: Date;
  next_attempt_at: Date;
};
export type ConsoleRow = Omit<ConsoleNotificationTable, 'id' | 'at'> & { id: number; at: Date };

// ---- channels ----

export async function insertChannel(
  db: Executor,
  row: Omit<ChannelRow, 'id' | 'created_at'>,
): Promise<ChannelRow> {
  return db.insertInto('notification_channels').values(row).returningAll().executeTakeFirstOrThrow();
}

/**
 * Channels the caller may see: `scope` null for all, else only its department's own (platform-wide
 * channels belong to the central team and may point at its internal systems).
 */
export async function listChannels(db: Executor, scope: string | null): Promise<ChannelRow[]> {
  let q = db.selectFrom('notification_channels').selectAll();
  if (scope !== null) q = q.where('department_id', '=', scope);
  return q.orderBy('created_at').orderBy('id').execute();
}

export async function findChannel(db: Executor, scope: string | null, id: string) {
  let q = db.selectFrom('notification_channels').selectAll().where('id', '=', id);
  if (scope !== null) q = q.where('department_id', '=', scope);
  return q.executeTakeFirst();
}

export async function deleteChannel(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('notification_channels').where('id', '=', id).execute();
}

/** The department's channels and the platform-wide ones: who is told about its incidents. */
export async function channelsFor(db: Executor, departmentId: string): Promise<ChannelRow[]> {
  return db
    .selectFrom('notification_channels')
    .selectAll()
    .where((eb) => eb.or([eb('department_id', '=', departmentId), eb('department_id', 'is', null)]))
    .execute();
}

// ---- outbox ----

export async function enqueue(
  db: Executor,
  rows: {
    channel_id: string | null;
    addresses?: string[];
    sender?: string;
    target?: string;
    incident_id: number | null;
    event: string;
    body: string;
  }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('notification_outbox')
    .values(
      rows.map((r) => ({
        ...r,
        addresses: r.addresses ?? null,
        sender: r.sender ?? null,
        target: r.target ?? null,
        state: 'pending' as const,
        lease_until: null,
        last_error: null,
        delivered_at: null,
      })),
    )
    .execute();
}

/**
 * Claims up to `limit` due rows for one sender: pending rows whose time has come, and rows whose
 * sender's claim lapsed (it crashed mid-delivery). The claim is one UPDATE, and `skip locked`
 * keeps two senders on one PostgreSQL from claiming the same row: a row is sent by one at a time.
 */
export async function claimDue(
  db: Executor,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<OutboxRow[]> {
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const result = await sql<OutboxRow>`
    update notification_outbox set state = 'sending', lease_until = ${leaseUntil}, attempts = attempts + 1
    where id in (
      select id from notification_outbox
      where (state = 'pending' and next_attempt_at <= ${now})
         or (state = 'sending' and lease_until < ${now})
      order by next_attempt_at
      limit ${limit}
      for update skip locked
    )
    returning *`.execute(db);
  return result.rows;
}

/** Marks a claimed row delivered; false when the claim was lost (another sender took it over). */
export async function markDelivered(db: Executor, id: string, leaseUntil: Date, at: Date): Promise<boolean> {
  const r = await db
    .updateTable('notification_outbox')
    .set({ state: 'delivered', delivered_at: at, lease_until: null, last_error: null })
    .where('id', '=', id)
    .where('state', '=', 'sending')
    .where('lease_until', '=', leaseUntil)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** After a failed attempt: try again at `next`, or give up (`next` null). */
export async function markFailedAttempt(
  db: Executor,
  id: string,
  leaseUntil: Date,
  error: string,
  next: Date | null,
): Promise<boolean> {
  const r = await db
    .updateTable('notification_outbox')
    .set(
      next
        ? { state: 'pending', next_attempt_at: next, lease_until: null, last_error: error }
        : { state: 'failed', lease_until: null, last_error: error },
    )
    .where('id', '=', id)
    .where('state', '=', 'sending')
    .where('lease_until', '=', leaseUntil)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function outboxOf(db: Executor, incidentId: number): Promise<OutboxRow[]> {
  return db
    .selectFrom('notification_outbox')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .orderBy('created_at')
    .execute();
}

// ---- console ----

export async function insertConsole(
  db: Executor,
  row: Omit<ConsoleRow, 'id' | 'at'> & { at: Date },
): Promise<void> {
  await db.insertInto('console_notifications').values(row).execute();
}

export async function listConsole(db: Executor, scope: string | null, page: Page) {
  let q = db.selectFrom('console_notifications');
  if (scope !== null) q = q.where('department_id', '=', scope);
  const items = await q.selectAll().orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute();
  const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { items, total: Number(n) };
}

// ---- retention ----

/** Deletes console notifications older than `before`; returns how many. */
export async function deleteConsoleBefore(db: Executor, before: Date): Promise<number> {
  const r = await db.deleteFrom('console_notifications').where('at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Deletes outbox rows done with (delivered or given up) created before `before`; never one still due. */
export async function deleteFinishedOutboxBefore(db: Executor, before: Date): Promise<number> {
  const r = await db
    .deleteFrom('notification_outbox')
    .where('state', 'in', ['delivered', 'failed'])
    .where('created_at', '<', before)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
