import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';

/**
 * Provider calls still `pending` that were made before `before`: the platform stopped (or the
 * provider did not answer) between recording the call and storing its answer. With what a retry
 * of the call needs: the payment's details, and the refund's amount for a refund.
 */
export const stalePendingCalls = (db: Executor, before: Date, limit: number) =>
  db
    .selectFrom('provider_calls')
    .innerJoin('payments', 'payments.id', 'provider_calls.payment_id')
    .leftJoin('payment_refunds', 'payment_refunds.id', 'provider_calls.refund_id')
    .select([
      'provider_calls.id as call_id',
      'provider_calls.operation',
      'provider_calls.refund_id',
      'payment_refunds.amount as refund_amount',
      'payment_refunds.state as refund_state',
      'payments.id as payment_id',
      'payments.department_id',
      'payments.service_id',
      'payments.amount',
      'payments.description',
      'payments.language',
      'payments.return_url',
      'payments.provider_ref',
      'payments.state',
      'payments.mode',
    ])
    .where('provider_calls.state', '=', 'pending')
    .where('provider_calls.created_at', '<', before)
    .orderBy('provider_calls.created_at')
    .limit(limit)
    .execute();

/**
 * Payments whose outcome only the provider knows: opened there (`created` with a reference is a
 * start whose move to `started` was lost), and not touched since `before`.
 */
export const unsettledPayments = (db: Executor, before: Date, limit: number) =>
  db
    .selectFrom('payments')
    .select(['id', 'state', 'mode'])
    .where('state', 'in', ['created', 'started', 'submitted'])
    .where('provider_ref', 'is not', null)
    .where('updated_at', '<', before)
    .orderBy('updated_at')
    .limit(limit)
    .execute();

/** Finishes a call only if it is still pending: of two rounds that race, one finishes it. */
export async function finishPendingCall(
  trx: Executor,
  id: string,
  state: 'done' | 'failed',
  outcome: string,
): Promise<boolean> {
  const r = await trx
    .updateTable('provider_calls')
    .set({ state, outcome, finished_at: new Date() })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Payments whose ledger postings do not sum to zero, or whose capture or refund postings are not
 * what their state says (one capture for a `success` payment, one refund posting per successful
 * refund): the check the kill -9 and reconciliation tests run, empty when the ledger is whole.
 */
export async function ledgerFaults(db: Executor): Promise<{ paymentId: string; fault: string }[]> {
  const unbalanced = await sql<{ payment_id: string; total: string }>`
    select p.payment_id, sum(e.amount) as total
    from ledger_postings p join ledger_entries e on e.posting_id = p.id
    group by p.payment_id having sum(e.amount) <> 0`.execute(db);
  const captures = await sql<{ id: string; state: string; n: string }>`
    select pay.id, pay.state, count(p.id) as n
    from payments pay left join ledger_postings p on p.payment_id = pay.id and p.kind = 'capture'
    group by pay.id, pay.state
    having count(p.id) <> case when pay.state = 'success' then 1 else 0 end`.execute(db);
  const refunds = await sql<{ payment_id: string; state: string; n: string }>`
    select r.payment_id, r.state, count(p.id) as n
    from payment_refunds r left join ledger_postings p on p.refund_id = r.id and p.kind = 'refund'
    group by r.id, r.payment_id, r.state
    having count(p.id) <> case when r.state = 'success' then 1 else 0 end`.execute(db);
  // What a payment holds back for refunds is exactly its refunds that succeeded or are in flight.
  const reserved = await sql<{ id: string; refunded: string; held: string }>`
    select pay.id, pay.refunded, coalesce(sum(r.amount), 0) as held
    from payments pay left join payment_refunds r on r.payment_id = pay.id and r.state <> 'error'
    group by pay.id, pay.refunded
    having pay.refunded <> coalesce(sum(r.amount), 0)`.execute(db);
  return [
    ...unbalanced.rows.map((r) => ({ paymentId: r.payment_id, fault: `postings sum to ${r.total}` })),
    ...captures.rows.map((r) => ({ paymentId: r.id, fault: `${r.state} with ${r.n} capture postings` })),
    ...refunds.rows.map((r) => ({
      paymentId: r.payment_id,
      fault: `a ${r.state} refund with ${r.n} refund postings`,
    })),
    ...reserved.rows.map((r) => ({
      paymentId: r.id,
      fault: `refunded ${r.refunded} but its refunds sum to ${r.held}`,
    })),
  ];
}
