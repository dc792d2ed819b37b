import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import './cluster.tables.ts';

/** A lease as its holder knows it. */
export interface LeaseRow {
  name: string;
  holder: string;
  generation: number;
}

const ttl = (ttlMs: number) => sql`now() + make_interval(secs => ${ttlMs / 1000})`;

/**
 * Takes `name` for `holder` when it is free, expired, or already `holder`'s; returns the lease with
 * its new generation, or null when another replica holds it. `steal` takes it whatever its
 * expiry: PGlite's single process (the data folder's lock says no other can run) inherits the
 * lease a killed process left, without waiting for it to expire.
 */
export async function take(
  db: Executor,
  name: string,
  holder: string,
  ttlMs: number,
  steal = false,
): Promise<LeaseRow | null> {
  const res = await sql<LeaseRow>`
    insert into leases (name, holder, generation, expires_at)
    values (${name}, ${holder}, 1, ${ttl(ttlMs)})
    on conflict (name) do update
      set holder = excluded.holder, generation = leases.generation + 1,
          expires_at = excluded.expires_at, acquired_at = now()
      where ${steal ? sql`true` : sql`leases.expires_at < now() or leases.holder = excluded.holder`}
    returning name, holder, generation`.execute(db);
  return res.rows[0] ?? null;
}

/** Extends a lease still held at `generation`; false when it changed hands. */
export async function renew(db: Executor, lease: LeaseRow, ttlMs: number): Promise<boolean> {
  const res = await db
    .updateTable('leases')
    .set({ expires_at: ttl(ttlMs) } as never)
    .where('name', '=', lease.name)
    .where('holder', '=', lease.holder)
    .where('generation', '=', lease.generation)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Lets a lease go at once (a clean shutdown), so that another replica need not wait for it to expire. */
export async function release(db: Executor, lease: LeaseRow): Promise<void> {
  await db
    .updateTable('leases')
    .set({ expires_at: sql`now() - interval '1 second'` } as never)
    .where('name', '=', lease.name)
    .where('generation', '=', lease.generation)
    .execute();
}

/**
 * Whether `lease` is still held, its row locked until the transaction `db` ends: a write made in
 * the same transaction after a true answer cannot race a takeover (the taker waits for the lock).
 */
export async function stillHeld(db: Executor, lease: LeaseRow): Promise<boolean> {
  const res = await sql<{ ok: number }>`
    select 1 as ok from leases
    where name = ${lease.name} and generation = ${lease.generation} and expires_at > now()
    for share`.execute(db);
  return res.rows.length === 1;
}

/** Who holds what, for status output and tests. */
export async function list(db: Executor) {
  return db
    .selectFrom('leases')
    .select(['name', 'holder', 'generation', 'expires_at', 'acquired_at'])
    .orderBy('name')
    .execute();
}

/** The fingerprint stored for a shared key, storing `fingerprint` first when there is none. */
export async function keyFingerprint(db: Executor, name: string, fingerprint: string): Promise<string> {
  await db
    .insertInto('cluster_keys')
    .values({ name, fingerprint })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('cluster_keys')
    .select('fingerprint')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.fingerprint;
}
