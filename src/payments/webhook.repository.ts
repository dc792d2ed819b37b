import type { Executor } from '../platform/database.ts';

const cols = [
  'service_id',
  'department_id',
  'url',
  'secret_sealed',
  'updated_by',
  'created_at',
  'updated_at',
] as const;

export type WebhookRow = Awaited<ReturnType<typeof find>> & {};

/** A service's webhook; `departmentId` (when not null) keeps a department user to its own services. */
export const find = (db: Executor, serviceId: string, departmentId: string | null = null) => {
  let q = db.selectFrom('payment_webhooks').select(cols).where('service_id', '=', serviceId);
  if (departmentId !== null) q = q.where('department_id', '=', departmentId);
  return q.executeTakeFirst();
};

/** Sets the URL, and the secret when one is given (a first set or a rotation). */
export async function upsert(
  trx: Executor,
  row: { service_id: string; department_id: string; url: string; secret_sealed: string; updated_by: string },
): Promise<void> {
  await trx
    .insertInto('payment_webhooks')
    .values(row)
    .onConflict((oc) =>
      oc.column('service_id').doUpdateSet({
        url: row.url,
        secret_sealed: row.secret_sealed,
        updated_by: row.updated_by,
        updated_at: new Date(),
      }),
    )
    .execute();
}

export async function remove(trx: Executor, serviceId: string): Promise<boolean> {
  const r = await trx.deleteFrom('payment_webhooks').where('service_id', '=', serviceId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
