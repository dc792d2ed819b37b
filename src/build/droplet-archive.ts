/**
 * A droplet as one file: the gzipped tar that pods on Kubernetes fetch (over a signed URL) and
 * check against its sha256 before they run it. Made once per droplet beside the droplet store
 * and kept; the same droplet folder always gives the same bytes (sorted entries, fixed times and
 * owners), so replicas that each make it announce the same sum. The blob store, when there is
 * one, is where it will live instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { create } from 'tar';
import { dropletDir, dropletExists } from './droplet-store.ts';
import { SharedBuilds } from './shared-builds.ts';

export interface DropletArchive {
  path: string;
  sha256: string;
  size: number;
}

/** Every path under `dir`, relative, sorted, folders before what they hold. */
async function sortedEntries(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory()) out.push(...(await sortedEntries(dir, rel)));
  }
  return out;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Archives being made in this process: one `tar` per droplet however many pods ask for it at once,
 * and at most two at a time for askers over HTTP (the machine may have two cores, and the API and
 * routers need one). A refused pod's init container fails and the kubelet starts it again with
 * back-off; by then the archive is usually made and served from disk.
 */
export const archiveBuilds = new SharedBuilds<DropletArchive>(2, 5);

/**
 * The archive of droplet `sha256` (made on first need), or null when there is no such droplet.
 * With `refuseWhenBusy`, rejects with GOVHOST_BUSY (503, Retry-After) rather than start a build
 * past the bound of `archiveBuilds`.
 */
export async function dropletArchive(
  dropletsDir: string,
  sha256: string,
  opts: { refuseWhenBusy?: boolean } = {},
): Promise<DropletArchive | null> {
  if (!/^[0-9a-f]{64}$/.test(sha256) || !(await dropletExists(dropletsDir, sha256))) return null;
  // Inside the store: pruning the store at start removes them too, and they are made again alike.
  const dir = join(dropletsDir, '.archives');
  const path = join(dir, `${sha256}.tar.gz`);
  try {
    const [sum, s] = await Promise.all([readFile(`${path}.sha256`, 'utf8'), stat(path)]);
    return { path, sha256: sum.trim(), size: s.size };
  } catch {
    // Not made yet (or half made by a process that died): made below, once for every asker.
  }
  return archiveBuilds.run(path, () => makeArchive(dropletsDir, sha256, path), {
    refuse: opts.refuseWhenBusy === true,
  });
}

async function makeArchive(dropletsDir: string, sha256: string, path: string): Promise<DropletArchive> {
  const dir = join(dropletsDir, '.archives');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${sha256}.${randomBytes(4).toString('hex')}`);
  const source = dropletDir(dropletsDir, sha256);
  try {
    await create(
      { file: tmp, cwd: source, gzip: { level: 6 }, portable: true, mtime: new Date(0), noDirRecurse: true },
      await sortedEntries(source),
    );
    const sum = await sha256Of(tmp);
    await writeFile(`${tmp}.sha256`, `${sum}\n`, { mode: 0o600 });
    // The archive first, its sum last: a sum file always describes a complete archive.
    await rename(tmp, path);
    await rename(`${tmp}.sha256`, `${path}.sha256`);
    return { path, sha256: sum, size: (await stat(path)).size };
  } finally {
    await rm(tmp, { force: true });
    await rm(`${tmp}.sha256`, { force: true });
  }
}
