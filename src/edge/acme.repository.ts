import type { Selectable } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { AcmeAccountTable, AcmeOrderTable } from './acme.tables.ts';

export type AcmeAccountRow = Selectable<AcmeAccountTable>;
export type AcmeOrderRow = Selectable<AcmeOrderTable>;

export async function findAccount(db: Executor, directoryUrl: string): Promise<AcmeAccountRow | undefined> {
  return db
    .selectFrom('acme_accounts')
    .selectAll()
    .where('directory_url', '=', directoryUrl)
    .executeTakeFirst();
}

/** Keeps the first account stored for a directory: a second writer's row is dropped, theirs read back. */
export async function insertAccount(
  db: Executor,
  row: { directory_url: string; email: string | null; key_sealed: string; account_url: string },
): Promise<AcmeAccountRow> {
  await db
    .insertInto('acme_accounts')
    .values(row)
    .onConflict((oc) => oc.column('directory_url').doNothing())
    .execute();
  return (await findAccount(db, row.directory_url))!;
}

export async function putChallenge(
  db: Executor,
  row: { token: string; key_authorization: string; hostname: string },
): Promise<void> {
  await db
    .insertInto('acme_challenges')
    .values(row)
    .onConflict((oc) => oc.column('token').doUpdateSet({ key_authorization: row.key_authorization }))
    .execute();
}

export async function removeChallenge(db: Executor, token: string): Promise<void> {
  await db.deleteFrom('acme_challenges').where('token', '=', token).execute();
}

export async function listChallenges(db: Executor): Promise<{ token: string; key_authorization: string }[]> {
  return db.selectFrom('acme_challenges').select(['token', 'key_authorization']).orderBy('token').execute();
}

export async function listOrders(db: Executor): Promise<AcmeOrderRow[]> {
  return db.selectFrom('acme_orders').selectAll().orderBy('hostname').execute();
}

export async function findOrder(db: Executor, hostname: string): Promise<AcmeOrderRow | undefined> {
  return db.selectFrom('acme_orders').selectAll().where('hostname', '=', hostname).executeTakeFirst();
}

/** Writes where a host stands, whole (the job is the only writer, under its lease). */
export async function putOrder(db: Executor, row: Omit<AcmeOrderRow, 'hostname'> & { hostname: string }) {
  const { hostname, ...rest } = row;
  await db
    .insertInto('acme_orders')
    .values(row)
    .onConflict((oc) => oc.column('hostname').doUpdateSet(rest))
    .execute();
}
