/**
 * Blobs in a folder of the data folder: `<dir>/<sha256><suffix>` (bundles keep their layout of
 * before the blob store, `bundles/<sha256>.tar.gz`). Written beside the final name and renamed, so
 * a blob is whole or absent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline as pipe } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type BlobStore,
  blobCorrupt,
  blobNotFound,
  hasher,
  type PutResult,
  SHA256,
  verifier,
} from './blob-store.ts';

/** Temp files older than this are what an interrupted put left (no put takes an hour to finish). */
const STALE_MS = 3_600_000;

export class FsBlobStore implements BlobStore {
  constructor(
    readonly dir: string,
    readonly suffix: string,
  ) {}

  path(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.dir, `${sha256}${this.suffix}`);
  }

  async put(body: NodeJS.ReadableStream): Promise<PutResult> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // The temp name cannot be mistaken for a blob: no reader ever sees a half-written one.
    const temp = join(this.dir, `.upload-${randomBytes(8).toString('hex')}.tmp`);
    const h = hasher();
    try {
      await pipeline(body, h, createWriteStream(temp, { flags: 'wx' }));
      // Flushed to disk before the rename makes it visible under its final name.
      const handle = await open(temp, 'r+');
      await handle.datasync().finally(() => handle.close());
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    const result = h.result();
    // Same bytes, same name: a blob already there (or put meanwhile) is kept, ours dropped. Its
    // age starts again: the put is for a record about to name it, and the collector spares only
    // young blobs (`list(olderThanMs)`). Gone meanwhile (collected), ours takes its place.
    if (await this.touch(result.sha256)) await rm(temp, { force: true });
    else await rename(temp, this.path(result.sha256));
    return result;
  }

  /** Makes a stored blob young again; false when there is none. */
  private async touch(sha256: string): Promise<boolean> {
    const now = new Date();
    try {
      await utimes(this.path(sha256), now, now);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async get(sha256: string): Promise<NodeJS.ReadableStream> {
    let size: number;
    try {
      size = (await stat(this.path(sha256))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw blobNotFound(sha256);
      throw err;
    }
    // The callback form returns the last stream, which a read error destroys with that error.
    return pipe(createReadStream(this.path(sha256)), verifier(sha256, size), () => {});
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.path(sha256))).isFile();
    } catch {
      return false;
    }
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.path(sha256), { force: true });
  }

  async list(olderThanMs = 0): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: string[] = [];
    for (const n of names) {
      const key = n.slice(0, -this.suffix.length);
      if (!n.endsWith(this.suffix) || !SHA256.test(key)) continue;
      if (olderThanMs > 0) {
        const st = await stat(join(this.dir, n)).catch(() => null);
        if (!st || Date.now() - st.mtimeMs < olderThanMs) continue;
      }
      out.push(key);
    }
    return out;
  }

  async sweep(): Promise<number> {
    let removed = 0;
    for (const n of await readdir(this.dir).catch(() => [] as string[])) {
      if (!/^\.upload-[0-9a-f]+\.tmp$/.test(n)) continue;
      const s = await stat(join(this.dir, n)).catch(() => null);
      if (s && Date.now() - s.mtimeMs > STALE_MS) {
        await rm(join(this.dir, n), { force: true });
        removed++;
      }
    }
    return removed;
  }

  async file(sha256: string): Promise<string> {
    const path = this.path(sha256);
    if (!(await this.has(sha256))) throw blobNotFound(sha256);
    await verifyFile(path, sha256);
    return path;
  }
}

/** Rejects with GOVHOST_BLOB_CORRUPT when the file at `path` does not hash to `sha256`. */
export async function verifyFile(path: string, sha256: string): Promise<void> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  const got = hash.digest('hex');
  if (got !== sha256) throw blobCorrupt(sha256, `its bytes hash to ${got}`);
}
