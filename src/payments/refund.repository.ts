import type { Executor } from '../platform/database.ts';
import type { PaymentRefundTable } from './payments.tables.ts';

export async function insert(
  trx: Executor,
  row: { payment_id: string; department_id: string; amount: number },
) {
  const { id } = await trx
    .insertInto('payment_refunds')
    .values({ ...row, state: 'submitted' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** Settles a `submitted` refund; false when it was settled already (by a racing reconciliation). */
export async function setState(trx: Executor, id: string, state: PaymentRefundTable['state']) {
  const r = await trx
    .updateTable('payment_refunds')
    .set({ state, updated_at: new Date() })
    .where('id', '=', id)
    .where('state', '=', 'submitted')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

const cols = ['id', 'payment_id', 'amount', 'state', 'created_at', 'updated_at'] as const;

export const findById = (db: Executor, paymentId: string, id: string) =>
  db
    .selectFrom('payment_refunds')
    .select(cols)
    .where('payment_id', '=', paymentId)
    .where('id', '=', id)
    .executeTakeFirst();

export const listForPayment = (db: Executor, paymentId: string) =>
  db
    .selectFrom('payment_refunds')
    .select(cols)
    .where('payment_id', '=', paymentId)
    .orderBy('created_at')
    .execute();

/** Records a provider call before it is made; `finishCall` records its outcome. */
export async function recordCall(
  trx: Executor,
  row: {
    payment_id: string;
    refund_id: string | null;
    operation: 'authorise' | 'refund' | 'cancel' | 'status';
  },
) {
  const { id } = await trx
    .insertInto('provider_calls')
    .values({ ...row, state: 'pending' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

export async function finishCall(trx: Executor, id: string, state: 'done' | 'failed', outcome: string) {
  await trx
    .updateTable('provider_calls')
    .set({ state, outcome, finished_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/**
 * Records a finished start at the provider in one statement (one round trip): the call done with
 * the provider's reference as its outcome, and that reference on the payment.
 */
export async function finishStart(trx: Executor, callId: string, paymentId: string, providerRef: string) {
  await trx
    .with('call', (db) =>
      db
        .updateTable('provider_calls')
        .set({ state: 'done', outcome: providerRef, finished_at: new Date() })
        .where('id', '=', callId),
    )
    .updateTable('payments')
    .set({ provider_ref: providerRef })
    .where('id', '=', paymentId)
    .execute();
}
