/**
 * Content-addressed storage of uploaded bundles in the blob store: a bundle's key is the SHA-256 of
 * its bytes, so the same upload twice is stored once, and a release can name its bundle by hash
 * and trust it.
 */
import { pipeline, type Readable, Transform } from 'node:stream';
import type { BlobStore } from '../blobs/blob-store.ts';
import { DomainError } from '../platform/errors.ts';

export interface StoredBundle {
  sha256: string;
  sizeBytes: number;
  /** A verified local file of it: in the data folder's store, or in this host's cache. */
  path: string;
}

/** `104857600` → `100 MiB`, for messages that people read. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/**
 * Streams `body` into the blob store while counting it, and stops reading as soon as it passes
 * `maxBytes`; resolves with a verified local file of it (for inspection and staging).
 * @example await saveBundle(blobs.bundles, request.raw, 200 * 1024 * 1024)
 */
export async function saveBundle(store: BlobStore, body: Readable, maxBytes: number): Promise<StoredBundle> {
  let sizeBytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sizeBytes += chunk.length;
      if (sizeBytes > maxBytes) {
        // Failing the pipeline destroys `body` too, so a client sending gigabytes is cut off here
        // rather than after the whole upload has been read and thrown away.
        done(
          new DomainError(
            'GOVHOST_BUNDLE_TOO_LARGE',
            `the bundle is larger than the limit of ${formatBytes(maxBytes)} (${maxBytes} bytes)`,
            { maxBytes },
          ),
        );
        return;
      }
      done(null, chunk);
    },
  });
  const saved = await store.put(pipeline(body, meter, () => {}));
  return { ...saved, path: await store.file(saved.sha256) };
}
