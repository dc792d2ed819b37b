import type { Executor } from '../platform/database.ts';
import type { KeyMode } from './payments.tables.ts';

const cols = [
  'id',
  'department_id',
  'service_id',
  'mode',
  'name',
  'prefix',
  'created_by',
  'created_at',
  'revoked_at',
] as const;

export async function insert(
  trx: Executor,
  row: {
    department_id: string;
    service_id: string;
    mode: KeyMode;
    name: string;
    key_hash: string;
    prefix: string;
    created_by: string;
  },
) {
  return trx.insertInto('payment_keys').values(row).returning(cols).executeTakeFirstOrThrow();
}

/** Keys of one service; `departmentId` null only for platform roles. */
export const listForService = (db: Executor, departmentId: string | null, serviceId: string) => {
  const q = db.selectFrom('payment_keys').select(cols).where('service_id', '=', serviceId);
  return (departmentId === null ? q : q.where('department_id', '=', departmentId))
    .orderBy('created_at')
    .execute();
};

export const findForService = (db: Executor, serviceId: string, id: string) =>
  db
    .selectFrom('payment_keys')
    .select(cols)
    .where('service_id', '=', serviceId)
    .where('id', '=', id)
    .executeTakeFirst();

export async function revoke(trx: Executor, id: string, at: Date) {
  await trx
    .updateTable('payment_keys')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

export const findLiveByHash = (db: Executor, hash: string) =>
  db
    .selectFrom('payment_keys')
    .select(['id', 'department_id', 'service_id', 'mode'])
    .where('key_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
