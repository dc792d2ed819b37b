/**
 * Droplets on disk: `<dataDir>/droplets/<sha256>/`, the staged app folder, owned by the platform and
 * private like bundles (the data folder is not readable by service users). Written once, beside its
 * final place and renamed, so a droplet folder is complete or absent; never changed after.
 *
 * That folder is this host's cache: the droplet itself is kept in the blob store as one `.tar` of
 * the folder (`archiveDroplet`), which every replica can read, and a host that has no folder for a
 * droplet unpacks it from there (`restoreDroplet`), verified, before an instance uses it.
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { create, extract } from 'tar';
import type { BlobStore, PutResult } from '../blobs/blob-store.ts';
import { copyTree } from './cache-store.ts';

const run = promisify(execFile);

export const dropletDir = (dropletsDir: string, sha256: string) => join(dropletsDir, sha256);

export async function dropletExists(dropletsDir: string, sha256: string): Promise<boolean> {
  try {
    return (await stat(dropletDir(dropletsDir, sha256))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * No setuid or setgid bits, no group or other write, whatever a build left; owner read/write.
 * Links are left as they are (their mode means nothing), and are never followed.
 */
async function tidyModes(path: string): Promise<void> {
  const s = await lstat(path);
  if (s.isSymbolicLink()) return;
  if (s.isDirectory()) {
    await chmod(path, (s.mode & 0o755) | 0o700);
    for (const e of await readdir(path)) await tidyModes(join(path, e));
  } else await chmod(path, (s.mode & 0o755) | 0o600);
}

/**
 * Copies a staged folder into the store as droplet `sha256`: kept if it is already there, unless
 * `replace` (a `--no-cache` deploy staged it again; instances run from copies, never from here).
 */
export async function storeDroplet(
  dropletsDir: string,
  sha256: string,
  from: string,
  opts: { replace?: boolean; move?: boolean } = {},
): Promise<void> {
  await mkdir(dropletsDir, { recursive: true, mode: 0o700 });
  const exists = await dropletExists(dropletsDir, sha256);
  if (exists && !opts.replace) return;
  const temp = join(dropletsDir, `.tmp-${randomBytes(6).toString('hex')}`);
  try {
    // A copy rather than a rename: the scratch folder may be on another file system, and the
    // copy's files belong to the platform, not to the user the build ran as.
    // `cp` (a reflink where the file system has them) is several times faster than fs.cp; run by
    // the platform, it keeps no owner, so the copy's files are the platform's.
    // `move`: the scratch folder is the platform's to take (its build has ended): a rename on the
    // same file system, then given to the platform, instead of a copy of every file.
    const moved =
      opts.move === true &&
      (await rename(from, temp).then(
        () => true,
        () => false,
      ));
    if (moved && process.getuid?.() === 0) {
      await run('chown', ['-R', '-h', `${process.getuid()}:${process.getgid?.()}`, temp]);
    } else if (!moved) await copyTree(from, temp);
    await tidyModes(temp);
    if (exists) {
      const old = join(dropletsDir, `.old-${randomBytes(6).toString('hex')}`);
      await rename(dropletDir(dropletsDir, sha256), old);
      await rename(temp, dropletDir(dropletsDir, sha256));
      await rm(old, { recursive: true, force: true });
    } else await rename(temp, dropletDir(dropletsDir, sha256));
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    // Stored meanwhile by a staging of the same inputs: the droplet is the same, keep that one.
    if (await dropletExists(dropletsDir, sha256)) return;
    throw err;
  }
}

/** Removes droplets not in `keep`, and what an interrupted store left; returns those removed. */
export async function pruneDroplets(dropletsDir: string, keep: ReadonlySet<string>): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dropletsDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    if (/^[0-9a-f]{64}$/.test(e) && keep.has(e)) continue;
    await rm(join(dropletsDir, e), { recursive: true, force: true });
    if (/^[0-9a-f]{64}$/.test(e)) removed.push(e);
  }
  return removed;
}

/** Puts a droplet's folder into the blob store as one `.tar`; resolves with its key. */
export function archiveDroplet(store: BlobStore, dir: string): Promise<PutResult> {
  // `portable`: no owner or host-specific fields, so the archive is the same wherever it was made.
  // tar's Pack is a minipass stream: read through its async iterator (backpressure included).
  const pack = create({ cwd: dir, portable: true }, ['.']) as unknown as AsyncIterable<Buffer>;
  return store.put(Readable.from(pack, { objectMode: false }));
}

/**
 * Unpacks droplet `sha256` from its archive `blobSha256` into this host's droplets folder, unless
 * its folder is already there. Unpacked beside its place and renamed only once the archive's bytes
 * have hashed right, so a corrupted archive never becomes a droplet folder.
 */
export async function restoreDroplet(
  store: BlobStore,
  blobSha256: string,
  dropletsDir: string,
  sha256: string,
): Promise<void> {
  if (await dropletExists(dropletsDir, sha256)) return;
  await mkdir(dropletsDir, { recursive: true, mode: 0o700 });
  const temp = join(dropletsDir, `.tmp-${randomBytes(6).toString('hex')}`);
  await mkdir(temp, { mode: 0o700 });
  try {
    // The platform made this archive: owners are not kept (the files are the platform's) and the
    // modes are the ones tidyModes left.
    await pipeline(await store.get(blobSha256), extract({ cwd: temp, preserveOwner: false }));
    await rename(temp, dropletDir(dropletsDir, sha256));
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    // Unpacked meanwhile by another instance's start: the same droplet, keep that one.
    if (await dropletExists(dropletsDir, sha256)) return;
    throw err;
  }
}
