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
}

export function openBlobStores(opts: { kind: 'data-dir' | 'postgres'; dataDir: string; db: Db }): BlobStores {
  if (opts.kind === 'postgres') {
    const cache = join(opts.dataDir, 'cache', 'blobs');
    return {
      bundles: new PgBlobStore(opts.db, 'bundle', join(cache, 'bundles'), '.tar.gz'),
      droplets: new PgBlobStore(opts.db, 'droplet', join(cache, 'droplets'), '.tar'),
    };
  }
  return {
    // The layout of before the blob store: backups and existing installs find bundles where they were.
    bundles: new FsBlobStore(join(opts.dataDir, 'bundles'), '.tar.gz'),
    droplets: new FsBlobStore(join(opts.dataDir, 'droplet-archives'), '.tar'),
  };
}
