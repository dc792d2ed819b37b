import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { KeyMode } from './payments.tables.ts';

/**
 * What a payments summary or report covers: a department (null: every department, for the
 * central roles), optionally one service and one mode, and payments or refunds made in
 * `[from, to)`.
 */
export interface Window {
  departmentId: string | null;
  serviceId?: string | undefined;
  mode?: KeyMode | undefined;
  from: Date;
  to: Date;
}

export type Bucket = 'day' | 'month';

function payments(db: Executor, w: Window) {
  let q = db
    .selectFrom('payments')
    .where('payments.created_at', '>=', w.from)
    .where('payments.created_at', '<', w.to);
  if (w.departmentId !== null) q = q.where('payments.department_id', '=', w.departmentId);
  if (w.serviceId !== undefined) q = q.where('payments.service_id', '=', w.serviceId);
  if (w.mode !== undefined) q = q.where('payments.mode', '=', w.mode);
  return q;
}

/** Refunds made in the window, of the window's payments' department, service and mode. */
function refunds(db: Executor, w: Window) {
  let q = db
    .selectFrom('payment_refunds')
    .innerJoin('payments', 'payments.id', 'payment_refunds.payment_id')
    .where('payment_refunds.created_at', '>=', w.from)
    .where('payment_refunds.created_at', '<', w.to);
  if (w.departmentId !== null) q = q.where('payment_refunds.department_id', '=', w.departmentId);
  if (w.serviceId !== undefined) q = q.where('payments.service_id', '=', w.serviceId);
  if (w.mode !== undefined) q = q.where('payments.mode', '=', w.mode);
  return q;
}

/** The UTC day or month a timestamp falls in, as `YYYY-MM-DD` or `YYYY-MM`. */
const period = (column: string, by: Bucket) =>
  by === 'day'
    ? sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD')`
    : sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM')`;

/** Payments per service and period: how many, how many succeeded or ended, and the cents captured. */
export const paymentFigures = (db: Executor, w: Window, by: Bucket) =>
  payments(db, w)
    .select([
      'payments.department_id',
      'payments.service_id',
      period('payments.created_at', by).as('period'),
      sql<string>`count(*)`.as('payments'),
      sql<string>`count(*) filter (where payments.state = 'success')`.as('succeeded'),
      sql<string>`count(*) filter (where payments.state in ('success', 'failed', 'cancelled', 'error'))`.as(
        'finished',
      ),
      sql<string>`coalesce(sum(payments.amount) filter (where payments.state = 'success'), 0)`.as('captured'),
    ])
    .groupBy(['payments.department_id', 'payments.service_id', 'period'])
    .execute();

/** Refunds that succeeded, per service and period: how many, and the cents given back. */
export const refundFigures = (db: Executor, w: Window, by: Bucket) =>
  refunds(db, w)
    .where('payment_refunds.state', '=', 'success')
    .select([
      'payments.department_id',
      'payments.service_id',
      period('payment_refunds.created_at', by).as('period'),
      sql<string>`count(*)`.as('refunds'),
      sql<string>`coalesce(sum(payment_refunds.amount), 0)`.as('refunded'),
    ])
    .groupBy(['payments.department_id', 'payments.service_id', 'period'])
    .execute();

/** The window's payments, oldest first, at most `limit` (the report's rows). */
export const paymentRows = (db: Executor, w: Window, limit: number) =>
  payments(db, w)
    .select([
      'payments.id',
      'payments.department_id',
      'payments.service_id',
      'payments.mode',
      'payments.reference',
      'payments.state',
      'payments.amount',
      'payments.refunded',
      'payments.created_at',
      'payments.updated_at',
    ])
    .orderBy('payments.created_at')
    .orderBy('payments.id')
    .limit(limit)
    .execute();

/** The window's refunds, in every state, oldest first, with their payment's reference. */
export const refundRows = (db: Executor, w: Window, limit: number) =>
  refunds(db, w)
    .select([
      'payment_refunds.id',
      'payment_refunds.payment_id',
      'payments.department_id',
      'payments.service_id',
      'payments.mode',
      'payments.reference',
      'payment_refunds.state',
      'payment_refunds.amount',
      'payment_refunds.created_at',
      'payment_refunds.updated_at',
    ])
    .orderBy('payment_refunds.created_at')
    .orderBy('payment_refunds.id')
    .limit(limit)
    .execute();
