import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';

export type AuditRow = {
  seq: number;
  at: Date;
  actor_id: string | null;
  actor_name: string;
  department_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  before: unknown;
  after: unknown;
  request_id: string | null;
  prev_hash: string;
  hash: string;
};

export type NewAuditRow = Omit<AuditRow, 'seq'>;

/** Serialises appenders until the caller's transaction ends, so the chain has one tail. */
export async function lockChain(trx: Executor): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('govhost.audit_log'))`.execute(trx);
}

export async function head(db: Executor): Promise<{ seq: number; hash: string } | undefined> {
  return db.selectFrom('audit_head').select(['seq', 'hash']).executeTakeFirst();
}

export async function findBySeq(db: Executor, seq: number): Promise<AuditRow | undefined> {
  return (await db.selectFrom('audit_log').selectAll().where('seq', '=', seq).executeTakeFirst()) as
    | AuditRow
    | undefined;
}

/** Replaces the links of records already written: only the migration that re-keys the chain does. */
export async function relink(
  trx: Executor,
  links: { seq: number; prev_hash: string; hash: string }[],
): Promise<void> {
  const last = links.at(-1);
  if (!last) return;
  const values = sql.join(links.map((l) => sql`(${l.seq}::bigint, ${l.prev_hash}::text, ${l.hash}::text)`));
  await sql`
    update audit_log a set prev_hash = v.prev_hash, hash = v.hash
    from (values ${values}) as v(seq, prev_hash, hash)
    where a.seq = v.seq`.execute(trx);
  await trx.updateTable('audit_head').set({ seq: last.seq, hash: last.hash }).execute();
}

// jsonb values go in as text and are cast by the server, which behaves the same on pg and PGlite.
const jsonb = (v: unknown) => (v === null || v === undefined ? null : sql`${JSON.stringify(v)}::text::jsonb`);

export async function insert(trx: Executor, row: NewAuditRow): Promise<number> {
  const values = { ...row, before: jsonb(row.before), after: jsonb(row.after) };
  const { seq } = await trx.insertInto('audit_log').values(values).returning('seq').executeTakeFirstOrThrow();
  await trx
    .insertInto('audit_head')
    .values({ id: true, seq, hash: row.hash })
    .onConflict((oc) => oc.column('id').doUpdateSet({ seq, hash: row.hash }))
    .execute();
  return seq;
}

/** One page of the log in sequence order; `departmentId` limits it to one department's records. */
/** What a reader may narrow the trail to; every filter is optional and they combine. */
export interface AuditFilter {
  /** An exact action (`service.scale`) or a family ending in a dot (`service.`). */
  action?: string;
  actor?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
}

export async function list(
  db: Executor,
  opts: {
    afterSeq: number;
    limit: number;
    departmentId?: string | null;
    descending?: boolean;
    filter?: AuditFilter;
  },
): Promise<AuditRow[]> {
  let q = db.selectFrom('audit_log').selectAll();
  if (opts.departmentId) q = q.where('department_id', '=', opts.departmentId);
  const f = opts.filter ?? {};
  if (f.action) {
    // A family: escape LIKE's wildcards in the given text, then match the prefix.
    q = f.action.endsWith('.')
      ? q.where('action', 'like', `${f.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
      : q.where('action', '=', f.action);
  }
  if (f.actor) q = q.where('actor_name', '=', f.actor);
  if (f.targetId) q = q.where('target_id', '=', f.targetId);
  if (f.since) q = q.where('at', '>=', f.since);
  if (f.until) q = q.where('at', '<', f.until);
  q = opts.descending
    ? q.where('seq', '<', opts.afterSeq).orderBy('seq', 'desc')
    : q.where('seq', '>', opts.afterSeq).orderBy('seq', 'asc');
  return (await q.limit(opts.limit).execute()) as AuditRow[];
}
