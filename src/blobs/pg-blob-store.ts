/**
 * Blobs in PostgreSQL, for control-plane replicas on several hosts: 1 MiB `bytea` chunks, written
 * one row at a time while the upload streams in and read back one row at a time, so neither way
 * holds more than a chunk in memory. A blob's row in `blobs` is written last: it exists only once
 * every chunk does. Where the platform needs a file on disk it gets a verified copy in a local
 * cache folder (`file`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline as pipe, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Db } from '../platform/database.ts';
import * as repo from './blob.repository.ts';
import type { BlobKind } from './blob.tables.ts';
import {
  type BlobStore,
  blobCorrupt,
  blobNotFound,
  hasher,
  type PutResult,
  SHA256,
  verifier,
} from './blob-store.ts';
import { verifyFile } from './fs-blob-store.ts';

export const CHUNK_BYTES = 1024 * 1024;
/** Chunks no blob names, older than this, are an interrupted put's (no put takes an hour). */
const STALE_MS = 3_600_000;

export class PgBlobStore implements BlobStore {
  constructor(
    private readonly db: Db,
    private readonly kind: BlobKind,
    /** The local cache folder of `file`. */
    private readonly cacheDir: string,
    private readonly suffix: string,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {}

  async put(body: NodeJS.ReadableStream): Promise<PutResult> {
    const uploadId = randomUUID();
    const h = hasher();
    let n = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (final: boolean) => {
      while (pendingBytes >= this.chunkBytes || (final && pendingBytes > 0)) {
        const all = Buffer.concat(pending);
        const piece = all.subarray(0, this.chunkBytes);
        const rest = all.subarray(piece.length);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
        await repo.insertChunk(this.db, uploadId, n++, piece);
      }
    };
    try {
      // Async iteration reads the next piece only once the previous chunk is written: the
      // upload is held back by the database, never buffered whole.
      for await (const piece of pipe(body, h, () => {}) as AsyncIterable<Buffer>) {
        pending.push(piece);
        pendingBytes += piece.length;
        if (pendingBytes >= this.chunkBytes) await flush(false);
      }
      await flush(true);
    } catch (err) {
      await repo.deleteChunks(this.db, uploadId).catch(() => {});
      throw err;
    }
    const result = h.result();
    const recorded = await repo.insertBlob(this.db, {
      kind: this.kind,
      sha256: result.sha256,
      upload_id: uploadId,
      size_bytes: result.sizeBytes,
      chunks: n,
    });
    // The same blob, put first by someone else: theirs is kept, our copy of the bytes goes.
    if (!recorded) await repo.deleteChunks(this.db, uploadId);
    return result;
  }

  async get(sha256: string): Promise<NodeJS.ReadableStream> {
    const row = await repo.findBlob(this.db, this.kind, sha256);
    if (!row) throw blobNotFound(sha256);
    const db = this.db;
    async function* chunks() {
      for (let n = 0; n < row!.chunks; n++) {
        const data = await repo.chunk(db, row!.upload_id, n);
        if (!data) throw blobCorrupt(sha256, `chunk ${n} of ${row!.chunks} is missing`);
        yield data;
      }
    }
    return pipe(Readable.from(chunks(), { objectMode: false }), verifier(sha256, row.size_bytes), () => {});
  }

  async has(sha256: string): Promise<boolean> {
    return (await repo.findBlob(this.db, this.kind, sha256)) !== undefined;
  }

  async delete(sha256: string): Promise<void> {
    const uploadId = await repo.deleteBlob(this.db, this.kind, sha256);
    if (uploadId) await repo.deleteChunks(this.db, uploadId);
    await rm(this.cached(sha256), { force: true });
  }

  list(olderThanMs = 0): Promise<string[]> {
    return repo.listBlobs(this.db, this.kind, olderThanMs);
  }

  sweep(): Promise<number> {
    return repo.deleteOrphanChunks(this.db, STALE_MS);
  }

  private cached(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.cacheDir, `${sha256}${this.suffix}`);
  }

  async file(sha256: string): Promise<string> {
    const path = this.cached(sha256);
    const there = await stat(path).then(
      () => true,
      () => false,
    );
    if (there) {
      // Reused while it still hashes right; a damaged copy is fetched again.
      const ok = await verifyFile(path, sha256).then(
        () => true,
        () => false,
      );
      if (ok) return path;
    }
    await mkdir(this.cacheDir, { recursive: true, mode: 0o700 });
    const temp = join(this.cacheDir, `.fetch-${randomBytes(8).toString('hex')}.tmp`);
    try {
      // Renamed into place only once the verifier has seen every byte hash right.
      await pipeline(await this.get(sha256), createWriteStream(temp, { flags: 'wx' }));
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return path;
  }
}
