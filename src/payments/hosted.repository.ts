import type { Executor } from '../platform/database.ts';

/** Issues the payment's one return link; false when it already has one (issued once, ever). */
export async function insertReturnLink(db: Executor, paymentId: string, tokenHash: string): Promise<boolean> {
  const r = await db
    .insertInto('payment_return_links')
    .values({ token_hash: tokenHash, payment_id: paymentId })
    .onConflict((oc) => oc.column('payment_id').doNothing())
    .returning('payment_id')
    .executeTakeFirst();
  return r !== undefined;
}

/**
 * Spends a return link: one conditional update, so two uses that race cannot both win. The
 * payment id on the first use, undefined on any other (or for a token never issued).
 */
export async function spendReturnLink(db: Executor, tokenHash: string): Promise<string | undefined> {
  const row = await db
    .updateTable('payment_return_links')
    .set({ used_at: new Date() })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .returning('payment_id')
    .executeTakeFirst();
  return row?.payment_id;
}

/** Payments not paid (created, or at the provider's page) since before `before`, oldest first. */
export const unpaidBefore = (db: Executor, before: Date, limit: number) =>
  db
    .selectFrom('payments')
    .select(['id', 'state', 'mode', 'provider_ref'])
    .where('state', 'in', ['created', 'started'])
    .where('created_at', '<', before)
    .orderBy('created_at')
    .limit(limit)
    .execute();
