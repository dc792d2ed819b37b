import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { DropletRun } from './build.tables.ts';

export interface DropletRow {
  sha256: string;
  bundle_sha256: string;
  builder: string;
  runtime_version: string;
  kind: 'process' | 'static';
  command: string | null;
  run: DropletRun;
  size_bytes: number;
  staging_seconds: number;
  blob_sha256: string | null;
  created_at: Date;
}

// Droplets belong to no department: they are named by content, and reached only through a release,
// which is (the release routes filter by department).
export async function getDroplet(db: Executor, sha256: string): Promise<DropletRow | undefined> {
  const row = await db.selectFrom('droplets').selectAll().where('sha256', '=', sha256).executeTakeFirst();
  return row ? { ...row, size_bytes: Number(row.size_bytes) } : undefined;
}

export async function insertDroplet(db: Executor, row: Omit<DropletRow, 'created_at'>): Promise<void> {
  await db
    .insertInto('droplets')
    .values({ ...row, run: sql`${JSON.stringify(row.run)}::text::jsonb` as unknown as string })
    // Staged again (`--no-cache`): the same droplet, whose archive is the newer one.
    .onConflict((oc) => oc.column('sha256').doUpdateSet({ blob_sha256: row.blob_sha256 }))
    .execute();
}

export async function listDropletShas(db: Executor): Promise<string[]> {
  return (await db.selectFrom('droplets').select('sha256').execute()).map((r) => r.sha256);
}

export async function deleteDroplets(db: Executor, shas: string[]): Promise<void> {
  if (shas.length === 0) return;
  await db.deleteFrom('droplets').where('sha256', 'in', shas).execute();
}

/** Archives droplets still use: what the droplet blob store must keep. */
export async function dropletBlobsInUse(db: Executor, keep: ReadonlySet<string>): Promise<Set<string>> {
  if (keep.size === 0) return new Set();
  const rows = await db
    .selectFrom('droplets')
    .select('blob_sha256')
    .where('sha256', 'in', [...keep])
    .where('blob_sha256', 'is not', null)
    .execute();
  return new Set(rows.map((r) => r.blob_sha256).filter((s): s is string => s !== null));
}
