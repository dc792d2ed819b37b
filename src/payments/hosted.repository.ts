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
 * payment's return URL on the first use (read in the same statement), undefined on any other (or
 * for a token never issued).
 */
export async function spendReturnLink(db: Executor, tokenHash: string): Promise<string | undefined> {
  const row = await db
    .updateTable('payment_return_links')
    .from('payments')
    .set({ used_at: new Date() })
    .whereRef('payments.id', '=', 'payment_return_links.payment_id')
    .where('payment_return_links.token_hash', '=', tokenHash)
    .where('payment_return_links.used_at', 'is', null)
    .returning('payments.return_url')
    .executeTakeFirst();
  return row?.return_url;
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
