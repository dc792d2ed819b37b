import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { LedgerAccount, Posting } from './ledger.ts';

/** Writes a posting and its entries in one statement (one round trip, atomic on its own). */
export async function insertPosting(trx: Executor, p: Posting): Promise<string> {
  const { posting_id } = await trx
    .with('posting', (db) =>
      db
        .insertInto('ledger_postings')
        .values({
          department_id: p.departmentId,
          service_id: p.serviceId,
          payment_id: p.paymentId,
          refund_id: p.refundId ?? null,
          kind: p.kind,
        })
        .returning('id'),
    )
    .insertInto('ledger_entries')
    .columns(['posting_id', 'account', 'amount'])
    .expression(
      sql`select posting.id, e.account, e.amount from posting, (values ${sql.join(
        p.entries.map((e) => sql`(${e.account}, ${e.amount}::bigint)`),
      )}) as e(account, amount)`,
    )
    .returning('posting_id')
    .executeTakeFirstOrThrow();
  return posting_id;
}

export async function balances(
  db: Executor,
  filter: { paymentId?: string; departmentId?: string },
): Promise<Record<LedgerAccount, number>> {
  let q = db
    .selectFrom('ledger_entries')
    .innerJoin('ledger_postings', 'ledger_postings.id', 'ledger_entries.posting_id')
    .select(['ledger_entries.account', (eb) => eb.fn.sum<number>('ledger_entries.amount').as('balance')])
    .groupBy('ledger_entries.account');
  if (filter.paymentId) q = q.where('ledger_postings.payment_id', '=', filter.paymentId);
  if (filter.departmentId) q = q.where('ledger_postings.department_id', '=', filter.departmentId);
  const out: Record<LedgerAccount, number> = {
    provider_clearing: 0,
    service_receivable: 0,
    refunds: 0,
    fees: 0,
    bank: 0,
  };
  for (const r of await q.execute()) out[r.account] = Number(r.balance);
  return out;
}

/** A payment's postings, oldest first, each with its entries: what the ledger holds for it. */
export async function postingsOf(db: Executor, paymentId: string) {
  const rows = await db
    .selectFrom('ledger_postings')
    .innerJoin('ledger_entries', 'ledger_entries.posting_id', 'ledger_postings.id')
    .select([
      'ledger_postings.id',
      'ledger_postings.kind',
      'ledger_postings.refund_id',
      'ledger_postings.at',
      'ledger_entries.account',
      'ledger_entries.amount',
    ])
    .where('ledger_postings.payment_id', '=', paymentId)
    .orderBy('ledger_postings.at')
    .orderBy('ledger_postings.id')
    .orderBy('ledger_entries.id')
    .execute();
  const out = new Map<
    string,
    {
      id: string;
      kind: string;
      refundId: string | null;
      at: Date;
      entries: { account: LedgerAccount; amount: number }[];
    }
  >();
  for (const r of rows) {
    const p = out.get(r.id) ?? { id: r.id, kind: r.kind, refundId: r.refund_id, at: r.at, entries: [] };
    p.entries.push({ account: r.account, amount: Number(r.amount) });
    out.set(r.id, p);
  }
  return [...out.values()];
}
