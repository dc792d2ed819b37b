import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { Page } from '../platform/pagination.ts';
import type { KeyMode } from './payments.tables.ts';
import type { PaymentState } from './states.ts';

/**
 * Which payments a caller may reach: a service key its own service and mode; staff a department
 * (null: every department, for operators). Every query below takes one.
 */
export type PaymentScope = { serviceId: string; mode: KeyMode } | { departmentId: string | null };

const cols = [
  'payments.id',
  'payments.department_id',
  'payments.service_id',
  'payments.mode',
  'payments.amount',
  'payments.currency',
  'payments.reference',
  'payments.description',
  'payments.return_url',
  'payments.metadata',
  'payments.language',
  'payments.state',
  'payments.provider_ref',
  'payments.refunded',
  'payments.created_at',
  'payments.updated_at',
] as const;

function scoped(db: Executor, scope: PaymentScope) {
  const q = db.selectFrom('payments').select(cols);
  if ('serviceId' in scope) return q.where('service_id', '=', scope.serviceId).where('mode', '=', scope.mode);
  return scope.departmentId === null ? q : q.where('department_id', '=', scope.departmentId);
}

export type PaymentRow = Awaited<ReturnType<typeof findById>> & {};

export const findById = (db: Executor, scope: PaymentScope, id: string) =>
  scoped(db, scope).where('id', '=', id).executeTakeFirst();

/** The payment row, locked until the caller's transaction ends: state changes queue behind it. */
export const lockById = (trx: Executor, scope: PaymentScope, id: string) =>
  scoped(trx, scope).where('id', '=', id).forUpdate().executeTakeFirst();

/**
 * The payment row locked as `lockById` does, with whether its service has a webhook (read in the
 * same round trip): what a move needs before it writes. Only the payment's row is locked.
 */
export const lockForMove = (trx: Executor, scope: PaymentScope, id: string) =>
  scoped(trx, scope)
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom('payment_webhooks')
            .select('payment_webhooks.service_id')
            .whereRef('payment_webhooks.service_id', '=', 'payments.service_id'),
        )
        .as('has_webhook'),
    )
    .where('id', '=', id)
    .forUpdate('payments')
    .executeTakeFirst();

export interface PaymentFilter {
  reference?: string;
  state?: PaymentState;
  serviceId?: string;
  fromDate?: Date;
  toDate?: Date;
}

export async function search(db: Executor, scope: PaymentScope, page: Page, f: PaymentFilter) {
  let q = scoped(db, scope);
  if (f.reference !== undefined) q = q.where('reference', '=', f.reference);
  if (f.state !== undefined) q = q.where('state', '=', f.state);
  if (f.serviceId !== undefined) q = q.where('service_id', '=', f.serviceId);
  if (f.fromDate) q = q.where('created_at', '>=', f.fromDate);
  if (f.toDate) q = q.where('created_at', '<', f.toDate);
  const [items, count] = await Promise.all([
    q.orderBy('created_at', 'desc').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    q
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(count.n) };
}

/**
 * Moves the payment from `from` to `to` and writes the move's event, in one statement (one round
 * trip): the row as it is now and the event's id, or undefined (and no event) when it was not at
 * `from`. Call it in the transaction that holds the row's lock.
 */
export async function setStateWithEvent(
  trx: Executor,
  id: string,
  from: PaymentState,
  to: PaymentState,
  reason: string,
): Promise<{ row: PaymentRow; eventId: number } | undefined> {
  const r = await trx
    .with('moved', (db) =>
      db
        .updateTable('payments')
        .set({ state: to, updated_at: new Date() })
        .where('id', '=', id)
        .where('state', '=', from)
        .returning(cols),
    )
    .with('event', (db) =>
      db
        .insertInto('payment_events')
        .columns(['payment_id', 'from_state', 'to_state', 'reason'])
        .expression((eb) =>
          eb
            .selectFrom('moved')
            .select((s) => [
              'moved.id',
              s.val(from).as('from_state'),
              s.val(to).as('to_state'),
              s.val(reason).as('reason'),
            ]),
        )
        .returning('id as event_id'),
    )
    .selectFrom(['moved', 'event'])
    .selectAll('moved')
    .select('event.event_id')
    .executeTakeFirst();
  if (!r) return undefined;
  const { event_id, ...row } = r;
  return { row: row as PaymentRow, eventId: Number(event_id) };
}

export async function setProviderRef(trx: Executor, id: string, ref: string) {
  await trx.updateTable('payments').set({ provider_ref: ref }).where('id', '=', id).execute();
}

export const events = (db: Executor, paymentId: string) =>
  db
    .selectFrom('payment_events')
    .select(['from_state', 'to_state', 'reason', 'at'])
    .where('payment_id', '=', paymentId)
    .orderBy('id')
    .execute();

/**
 * Sets `amount` aside for a refund, in one conditional update: it succeeds only while the payment
 * is `success` and what is refunded stays within what was captured, so two racing refunds can never
 * both pass (the row lock of the update orders them; the loser sees the winner's sum).
 */
export async function reserveRefund(trx: Executor, id: string, amount: number): Promise<boolean> {
  const r = await trx
    .updateTable('payments')
    .set({ refunded: sql`refunded + ${amount}`, updated_at: new Date() })
    .where('id', '=', id)
    .where('state', '=', 'success')
    .where(sql<boolean>`refunded + ${amount} <= amount`)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Gives back a reservation whose refund the provider refused. */
export async function releaseRefund(trx: Executor, id: string, amount: number): Promise<void> {
  await trx
    .updateTable('payments')
    .set({ refunded: sql`refunded - ${amount}`, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}
