import type { Executor } from '../platform/database.ts';
import type { KeyMode } from './payments.tables.ts';
import type { DifferenceKind, PaymentReconciliationTable } from './settlement.tables.ts';

/** A capture or refund as the ledger holds it (its `provider_clearing` entry), in cents. */
export interface LedgerItem {
  kind: 'capture' | 'refund';
  payment_id: string;
  refund_id: string | null;
  department_id: string;
  service_id: string;
  amount: number;
}

function ledgerItems(db: Executor) {
  return db
    .selectFrom('ledger_postings')
    .innerJoin('ledger_entries', 'ledger_entries.posting_id', 'ledger_postings.id')
    .select([
      'ledger_postings.kind',
      'ledger_postings.payment_id',
      'ledger_postings.refund_id',
      'ledger_postings.department_id',
      'ledger_postings.service_id',
      'ledger_entries.amount',
    ])
    .where('ledger_entries.account', '=', 'provider_clearing')
    .where('ledger_postings.kind', 'in', ['capture', 'refund']);
}

const present = (rows: { kind: string; amount: number | string }[]) =>
  rows.map((r) => ({ ...r, amount: Math.abs(Number(r.amount)) }) as LedgerItem);

/**
 * The captures and refunds the ledger posted in `[from, to)`, of one department or all; only of
 * payments in `modes` when given (those the reconciled provider holds).
 */
export async function ledgerItemsBetween(
  db: Executor,
  from: Date,
  to: Date,
  departmentId: string | null,
  modes?: readonly KeyMode[],
) {
  let q = ledgerItems(db).where('ledger_postings.at', '>=', from).where('ledger_postings.at', '<', to);
  if (departmentId) q = q.where('ledger_postings.department_id', '=', departmentId);
  if (modes)
    q = q.where('ledger_postings.payment_id', 'in', (eb) =>
      eb
        .selectFrom('payments')
        .select('payments.id')
        .where('payments.mode', 'in', [...modes]),
    );
  return present(await q.execute());
}

/** The captures and refunds the ledger holds for these payments, whenever they were posted. */
export async function ledgerItemsOf(db: Executor, paymentIds: string[]) {
  if (paymentIds.length === 0) return [];
  return present(await ledgerItems(db).where('ledger_postings.payment_id', 'in', paymentIds).execute());
}

/** Which of these payments' captures and refunds are settled already: `payment:refund` keys. */
export async function settledKeys(db: Executor, paymentIds: string[]): Promise<Set<string>> {
  if (paymentIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('ledger_postings')
    .select(['payment_id', 'refund_id'])
    .where('kind', '=', 'settlement')
    .where('payment_id', 'in', paymentIds)
    .execute();
  return new Set(rows.map((r) => `${r.payment_id}:${r.refund_id ?? ''}`));
}

export const paymentsByIds = (db: Executor, ids: string[]) =>
  ids.length === 0
    ? Promise.resolve([])
    : db
        .selectFrom('payments')
        .select(['id', 'department_id', 'service_id'])
        .where('id', 'in', ids)
        .execute();

export interface DifferenceRow {
  kind: DifferenceKind;
  item: 'capture' | 'refund';
  payment_id: string;
  refund_id: string | null;
  ledger_amount: number | null;
  provider_amount: number | null;
}

/** Stores a service's day, replacing an earlier run of the same day with its differences. */
export async function saveDay(
  trx: Executor,
  row: Omit<PaymentReconciliationTable, 'id' | 'run_at'>,
  differences: DifferenceRow[],
): Promise<string> {
  const { id } = await trx
    .insertInto('payment_reconciliations')
    .values({ ...row, run_at: new Date() })
    .onConflict((oc) =>
      oc.columns(['day', 'service_id']).doUpdateSet((eb) => ({
        ledger_captured: eb.ref('excluded.ledger_captured'),
        ledger_refunded: eb.ref('excluded.ledger_refunded'),
        provider_captured: eb.ref('excluded.provider_captured'),
        provider_refunded: eb.ref('excluded.provider_refunded'),
        fees: eb.ref('excluded.fees'),
        differences: eb.ref('excluded.differences'),
        run_at: eb.ref('excluded.run_at'),
      })),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx.deleteFrom('payment_reconciliation_differences').where('reconciliation_id', '=', id).execute();
  if (differences.length > 0)
    await trx
      .insertInto('payment_reconciliation_differences')
      .values(differences.map((d) => ({ ...d, reconciliation_id: id })))
      .execute();
  return id;
}

/** Stored days, newest first, of one department (or all), optionally one day or one service. */
export function listDays(
  db: Executor,
  f: { departmentId: string | null; day?: string; serviceId?: string; limit: number },
) {
  let q = db.selectFrom('payment_reconciliations').selectAll();
  if (f.departmentId) q = q.where('department_id', '=', f.departmentId);
  if (f.day) q = q.where('day', '=', f.day);
  if (f.serviceId) q = q.where('service_id', '=', f.serviceId);
  return q.orderBy('day', 'desc').orderBy('service_id').limit(f.limit).execute();
}

export const differencesOf = (db: Executor, ids: string[]) =>
  ids.length === 0
    ? Promise.resolve([])
    : db
        .selectFrom('payment_reconciliation_differences')
        .selectAll()
        .where('reconciliation_id', 'in', ids)
        .orderBy('id')
        .execute();

/** Whether a day was reconciled for any service already (the daily job runs each day once). */
export async function dayDone(db: Executor, day: string): Promise<boolean> {
  return !!(await db
    .selectFrom('payment_reconciliations')
    .select('id')
    .where('day', '=', day)
    .executeTakeFirst());
}
