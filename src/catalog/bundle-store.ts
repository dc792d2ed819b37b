/**
 * Content-addressed storage of uploaded bundles: a bundle's file name is the SHA-256 of its bytes,
 * so the same upload twice is stored once, and a release can name its bundle by hash and trust it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '../platform/errors.ts';

export interface StoredBundle {
  sha256: string;
  sizeBytes: number;
  /** `<bundlesDir>/<sha256>.tar.gz` */
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

export const bundlePath = (bundlesDir: string, sha256: string) => join(bundlesDir, `${sha256}.tar.gz`);

/**
 * Streams `body` into the store while hashing it, and stops reading as soon as it passes `maxBytes`.
 * @example await saveBundle('/var/lib/govhost/bundles', request.raw, 200 * 1024 * 1024)
 */
export async function saveBundle(
  bundlesDir: string,
  body: Readable,
  maxBytes: number,
): Promise<StoredBundle> {
  await mkdir(bundlesDir, { recursive: true });
  // The temp file lives beside the final one so that the rename is atomic (one file system), and
  // its name cannot be mistaken for a bundle: no reader ever sees a half-written `<sha>.tar.gz`.
  const temp = join(bundlesDir, `.upload-${randomBytes(8).toString('hex')}.tmp`);
  const hash = createHash('sha256');
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
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, meter, createWriteStream(temp, { flags: 'wx' }));
    await syncFile(temp);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const sha256 = hash.digest('hex');
  const path = bundlePath(bundlesDir, sha256);
  if (await exists(path)) {
    // Same bytes, same name: keep the stored copy and drop ours.
    await rm(temp, { force: true });
  } else {
    await rename(temp, path);
  }
  return { sha256, sizeBytes, path };
}

/** Flushes to disk before the rename makes the file visible under its final name. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
