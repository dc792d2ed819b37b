/** The platform's two blob stores, bundles and droplets, in the configured place. */
import { join } from 'node:path';
import type { Db } from '../platform/database.ts';
import type { BlobStore } from './blob-store.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { PgBlobStore } from './pg-blob-store.ts';

export interface BlobStores {
  /** Uploaded bundles (`.tar.gz`). */
  bundles: BlobStore;
  /** Droplets, each archived as one `.tar` of its folder. */
  droplets: BlobStore;
  /**
   * Whether other hosts read these stores. In the data folder they do not: a droplet's folder is
   * already on the one disk, and an archive of it would be a second copy that costs every staging
   * a `tar` (about 1 s for the Express example) for no reader.
   */
  shared: boolean;
}

export function openBlobStores(opts: { kind: 'data-dir' | 'postgres'; dataDir: string; db: Db }): BlobStores {
  if (opts.kind === 'postgres') {
    const cache = join(opts.dataDir, 'cache', 'blobs');
    return {
      bundles: new PgBlobStore(opts.db, 'bundle', join(cache, 'bundles'), '.tar.gz'),
      droplets: new PgBlobStore(opts.db, 'droplet', join(cache, 'droplets'), '.tar'),
      shared: true,
    };
  }
  return {
    // The layout of before the blob store: backups and existing installs find bundles where they were.
    bundles: new FsBlobStore(join(opts.dataDir, 'bundles'), '.tar.gz'),
    droplets: new FsBlobStore(join(opts.dataDir, 'droplet-archives'), '.tar'),
    shared: false,
  };
}
