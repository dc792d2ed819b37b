import type { Executor } from '../platform/database.ts';
import type { SignInThrottleTable } from './tenancy.tables.ts';

export type ThrottleRow = SignInThrottleTable;
export type ThrottleKind = ThrottleRow['kind'];

/** The rows for these subjects, as they stand: read before a password is checked. */
export async function find(
  db: Executor,
  keys: { kind: ThrottleKind; subject: string }[],
): Promise<ThrottleRow[]> {
  if (keys.length === 0) return [];
  return db
    .selectFrom('sign_in_throttle')
    .selectAll()
    .where((eb) => eb.or(keys.map((k) => eb.and([eb('kind', '=', k.kind), eb('subject', '=', k.subject)]))))
    .execute();
}

/** The row of one subject, made if missing and locked until the transaction ends. */
export async function lockRow(
  trx: Executor,
  kind: ThrottleKind,
  subject: string,
  now: Date,
): Promise<ThrottleRow> {
  await trx
    .insertInto('sign_in_throttle')
    .values({ kind, subject, failures: 0, window_started_at: now, last_failure_at: now })
    .onConflict((oc) => oc.columns(['kind', 'subject']).doNothing())
    .execute();
  return trx
    .selectFrom('sign_in_throttle')
    .selectAll()
    .where('kind', '=', kind)
    .where('subject', '=', subject)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export async function update(trx: Executor, row: ThrottleRow): Promise<void> {
  const { kind, subject, ...rest } = row;
  await trx
    .updateTable('sign_in_throttle')
    .set(rest)
    .where('kind', '=', kind)
    .where('subject', '=', subject)
    .execute();
}

/** Forgets a subject's failures; true when there were any. */
export async function remove(
  trx: Executor,
  kind: ThrottleKind,
  subject: string,
): Promise<ThrottleRow | undefined> {
  return trx
    .deleteFrom('sign_in_throttle')
    .where('kind', '=', kind)
    .where('subject', '=', subject)
    .returningAll()
    .executeTakeFirst();
}

/** Subjects locked now, or with a failure since `since`, newest failure first. */
export async function listActive(
  db: Executor,
  now: Date,
  since: Date,
  limit: number,
): Promise<ThrottleRow[]> {
  return db
    .selectFrom('sign_in_throttle')
    .selectAll()
    .where((eb) => eb.or([eb('locked_until', '>', now), eb('last_failure_at', '>=', since)]))
    .orderBy('last_failure_at', 'desc')
    .limit(limit)
    .execute();
}

/** Drops what no longer counts, so a flood of made-up user names does not grow the table forever. */
export async function prune(trx: Executor, before: Date, now: Date): Promise<void> {
  await trx
    .deleteFrom('sign_in_throttle')
    .where('last_failure_at', '<', before)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .execute();
}
