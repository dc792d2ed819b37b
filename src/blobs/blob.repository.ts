import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { BlobKind } from './blob.tables.ts';

// Blobs belong to no department: they are named by content and reached only through a release
// (bundles) or a droplet, which the department-filtered routes lead to.

// Chunks travel as base64 text: PGlite turns a bytea parameter or result into hex escapes in
// JavaScript at about 1.5 s a MiB, base64 through encode/decode is 7 times faster (and no slower
// on PostgreSQL).
export async function insertChunk(db: Executor, uploadId: string, n: number, data: Buffer): Promise<void> {
  await db
    .insertInto('blob_chunks')
    .values({ upload_id: uploadId, n, data: sql<Uint8Array>`decode(${data.toString('base64')}, 'base64')` })
    .execute();
}

/**
 * Records a complete blob; false when the same blob was recorded first (its chunks are then the
 * ones kept). Either way its `created_at` is now: a put is for a record about to name the blob,
 * and the collector spares only young blobs, so a blob put again must count as young again.
 */
export async function insertBlob(
  db: Executor,
  row: { kind: BlobKind; sha256: string; upload_id: string; size_bytes: number; chunks: number },
): Promise<boolean> {
  const r = await db
    .insertInto('blobs')
    .values(row)
    .onConflict((oc) => oc.columns(['kind', 'sha256']).doUpdateSet({ created_at: sql<Date>`now()` }))
    // xmax is 0 on a row this statement inserted, the updating transaction's id on one it updated.
    .returning(sql<boolean>`xmax = 0`.as('inserted'))
    .executeTakeFirstOrThrow();
  return r.inserted;
}

export async function findBlob(db: Executor, kind: BlobKind, sha256: string) {
  const row = await db
    .selectFrom('blobs')
    .select(['upload_id', 'size_bytes', 'chunks'])
    .where('kind', '=', kind)
    .where('sha256', '=', sha256)
    .executeTakeFirst();
  return row ? { ...row, size_bytes: Number(row.size_bytes) } : undefined;
}

/** One chunk's bytes, or undefined when it is missing (a damaged store). */
export async function chunk(db: Executor, uploadId: string, n: number): Promise<Buffer | undefined> {
  const row = await db
    .selectFrom('blob_chunks')
    .select(sql<string>`encode(data, 'base64')`.as('data'))
    .where('upload_id', '=', uploadId)
    .where('n', '=', n)
    .executeTakeFirst();
  return row ? Buffer.from(row.data, 'base64') : undefined;
}

export async function deleteChunks(db: Executor, uploadId: string): Promise<void> {
  await db.deleteFrom('blob_chunks').where('upload_id', '=', uploadId).execute();
}

export async function deleteBlob(db: Executor, kind: BlobKind, sha256: string): Promise<string | undefined> {
  const r = await db
    .deleteFrom('blobs')
    .where('kind', '=', kind)
    .where('sha256', '=', sha256)
    .returning('upload_id')
    .executeTakeFirst();
  return r?.upload_id;
}

export async function listBlobs(db: Executor, kind: BlobKind, olderThanMs = 0): Promise<string[]> {
  let q = db.selectFrom('blobs').select('sha256').where('kind', '=', kind);
  // The database's clock, as for leases: replicas' clocks may differ.
  if (olderThanMs > 0)
    q = q.where('created_at', '<', sql<Date>`now() - make_interval(secs => ${olderThanMs / 1000})`);
  return (await q.execute()).map((r) => r.sha256);
}

/** Deletes chunks no blob row names that are older than `olderThanMs`: an interrupted put's. */
export async function deleteOrphanChunks(db: Executor, olderThanMs: number): Promise<number> {
  const r = await db
    .deleteFrom('blob_chunks')
    .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${olderThanMs / 1000})`)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('blobs').select('sha256').whereRef('blobs.upload_id', '=', 'blob_chunks.upload_id'),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
