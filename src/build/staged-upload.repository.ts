/** Upload URLs of staging Jobs: made by the stager, used once by the upload route (any replica). */
import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { DropletRun } from './build.tables.ts';

// Uploads belong to no department: each is reached only by its signed id, made for one release.
export async function insertUpload(
  db: Executor,
  row: { id: string; release_id: string; max_bytes: number },
): Promise<void> {
  await db.insertInto('staged_uploads').values(row).execute();
}

/**
 * Takes the upload URL `id` for one upload: its size limit, or `used` when an upload has already
 * taken it (a replay), or null when there is no such URL (removed after its staging).
 */
export async function claimUpload(db: Executor, id: string): Promise<{ maxBytes: number } | 'used' | null> {
  const row = await db
    .updateTable('staged_uploads')
    .set({ used_at: sql`now()` })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .returning('max_bytes')
    .executeTakeFirst();
  if (row) return { maxBytes: Number(row.max_bytes) };
  const exists = await db.selectFrom('staged_uploads').select('id').where('id', '=', id).executeTakeFirst();
  return exists ? 'used' : null;
}

export async function completeUpload(
  db: Executor,
  id: string,
  got: { blobSha256: string; sizeBytes: number; run: DropletRun },
): Promise<void> {
  await db
    .updateTable('staged_uploads')
    .set({
      blob_sha256: got.blobSha256,
      size_bytes: got.sizeBytes,
      run: sql`${JSON.stringify(got.run)}::text::jsonb` as unknown as string,
    })
    .where('id', '=', id)
    .execute();
}

/** What upload `id` received: null until an archive has arrived whole and checked. */
export async function uploaded(
  db: Executor,
  id: string,
): Promise<{ blobSha256: string; sizeBytes: number; run: DropletRun } | null> {
  const row = await db
    .selectFrom('staged_uploads')
    .select(['blob_sha256', 'size_bytes', 'run'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row?.blob_sha256 || row.run === null) return null;
  return { blobSha256: row.blob_sha256, sizeBytes: Number(row.size_bytes), run: row.run };
}

export async function deleteUpload(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('staged_uploads').where('id', '=', id).execute();
}

/** Removes upload URLs older than `ms` (their staging died with its process); returns how many. */
export async function deleteStaleUploads(db: Executor, ms: number): Promise<number> {
  const rows = await db
    .deleteFrom('staged_uploads')
    .where('created_at', '<', new Date(Date.now() - ms))
    .returning('id')
    .execute();
  return rows.length;
}
