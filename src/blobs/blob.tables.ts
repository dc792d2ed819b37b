import type { ColumnType } from 'kysely';

/** Which kind of blob: each kind is a store of its own (listed and collected apart). */
export type BlobKind = 'bundle' | 'droplet';

/**
 * A complete blob in PostgreSQL: its row is written after all its chunks, so a blob with a row is
 * whole. Its chunks are found by `upload_id` (the put that wrote them), not by the sha256, which
 * is known only once every byte has been read.
 */
export interface BlobTable {
  kind: BlobKind;
  sha256: string;
  upload_id: string;
  size_bytes: number;
  chunks: number;
  /** When the blob was last put (a put of a blob already stored refreshes it), by the database's clock. */
  created_at: ColumnType<Date, never, Date>;
}

/** One piece (1 MiB, the last one shorter) of a blob's bytes, numbered from 0. */
export interface BlobChunkTable {
  upload_id: string;
  n: number;
  data: ColumnType<Uint8Array, Uint8Array, never>;
  created_at: ColumnType<Date, never, never>;
}

export interface BlobTables {
  blobs: BlobTable;
  blob_chunks: BlobChunkTable;
}

declare module '../platform/database.ts' {
  interface Database extends BlobTables {}
}
