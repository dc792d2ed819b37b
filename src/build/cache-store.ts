/**
 * The dependency cache on disk: `<data>/build/cache/<department>/<key sha256>/files/`, one folder
 * per department so that no department is ever handed another's entry. The whole tree belongs to
 * the platform and is private (0700): builds never see it. The platform copies an entry into the
 * scratch folder (and gives the copy to the build's user) before the build runs, and copies a
 * finished install out of it afterwards, so a build cannot write into any entry, its own
 * department's included. Entries are written beside their final place and renamed (complete or
 * absent), never changed after; the entry folder's mtime is its last use, and the least recently
 * used entries go first once the cache holds more than its size bound.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CacheKey, DependencyCache } from './dependency-cache.ts';
import { folderBytes } from './sandbox.ts';

const run = promisify(execFile);

export interface CacheStoreOptions {
  dir: string;
  /** The bound on all entries together; 0 keeps nothing. */
  maxBytes: number;
  /** Told when entries are evicted (for the platform's log). */
  onEvict?: (evicted: { department: string; entry: string; bytes: number }) => void;
}

/** A department's folder name: its id when that is a plain name, else a hash of it. */
const departmentFolder = (id: string) =>
  /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : createHash('sha256').update(id).digest('hex').slice(0, 32);

const entryName = (key: CacheKey) =>
  createHash('sha256')
    .update(JSON.stringify([key.builder, key.inputsSha256, key.runtimeVersion, 1]))
    .digest('hex');

/**
 * Copies a folder with `cp`: a reflink where the file system has them (near free), else a copy;
 * symbolic links stay links. Ownership is not kept: the copy belongs to whoever runs `cp`.
 */
export async function copyTree(from: string, to: string): Promise<void> {
  await run('cp', [
    '-R',
    '--reflink=auto',
    '--preserve=mode,timestamps,links',
    '--no-target-directory',
    from,
    to,
  ]);
}

/** 0755 folders, 0644 files (0755 when executable): readable, written by the owner only. */
async function platformModes(path: string): Promise<void> {
  const s = await lstat(path);
  if (s.isSymbolicLink()) return;
  if (s.isDirectory()) {
    await chmod(path, 0o755);
    for (const e of await readdir(path)) await platformModes(join(path, e));
  } else await chmod(path, s.mode & 0o100 ? 0o755 : 0o644);
}

export function createCacheStore(opts: CacheStoreOptions): DependencyCache & {
  entryDir(key: CacheKey): string;
  /** Entries with their size and last use, oldest use first. */
  entries(): Promise<{ department: string; entry: string; bytes: number; usedMs: number }[]>;
} {
  const entryDir = (key: CacheKey) => join(opts.dir, departmentFolder(key.departmentId), entryName(key));

  async function entries() {
    const out: { department: string; entry: string; bytes: number; usedMs: number }[] = [];
    for (const department of await readdir(opts.dir).catch(() => [] as string[])) {
      if (department.startsWith('.')) continue;
      for (const entry of await readdir(join(opts.dir, department)).catch(() => [] as string[])) {
        const dir = join(opts.dir, department, entry);
        try {
          const bytes = Number(await readFile(join(dir, 'size'), 'utf8'));
          out.push({ department, entry, bytes, usedMs: (await stat(dir)).mtimeMs });
        } catch {
          // Being written or removed by another staging.
        }
      }
    }
    return out.sort((a, b) => a.usedMs - b.usedMs);
  }

  async function evict(justKept: string) {
    const all = await entries();
    let total = all.reduce((n, e) => n + e.bytes, 0);
    // The newest entry goes last, and only when it alone is larger than the bound.
    const order = [...all.filter((e) => e.entry !== justKept), ...all.filter((e) => e.entry === justKept)];
    for (const e of order) {
      if (total <= opts.maxBytes) break;
      await rm(join(opts.dir, e.department, e.entry), { recursive: true, force: true });
      total -= e.bytes;
      opts.onEvict?.({ department: e.department, entry: e.entry, bytes: e.bytes });
    }
  }

  return {
    entryDir,
    entries,
    async restore(key, dest, how = 'copy') {
      if (opts.maxBytes === 0) return false;
      const dir = entryDir(key);
      try {
        await stat(join(dir, 'size'));
      } catch {
        return false;
      }
      await rm(dest, { recursive: true, force: true });
      const linked =
        how === 'link' &&
        (await run('cp', ['-R', '--link', '--no-target-directory', join(dir, 'files'), dest]).then(
          () => true,
          // Another file system (EXDEV): a copy, which the platform owns all the same.
          () => rm(dest, { recursive: true, force: true }).then(() => false),
        ));
      if (!linked) await copyTree(join(dir, 'files'), dest);
      const now = new Date();
      await utimes(dir, now, now).catch(() => {});
      return true;
    },
    async keep(key, src) {
      if (opts.maxBytes === 0) return;
      const dir = entryDir(key);
      try {
        await stat(join(dir, 'size'));
        const now = new Date();
        await utimes(dir, now, now);
        return;
      } catch {
        // Not there yet: written below.
      }
      await mkdir(opts.dir, { recursive: true, mode: 0o700 });
      await chmod(opts.dir, 0o700);
      const temp = join(opts.dir, `.tmp-${randomBytes(6).toString('hex')}`);
      try {
        await mkdir(temp, { mode: 0o700 });
        await copyTree(src, join(temp, 'files'));
        await platformModes(join(temp, 'files'));
        await writeFile(join(temp, 'size'), String(await folderBytes(join(temp, 'files'))), { mode: 0o600 });
        await mkdir(join(dir, '..'), { recursive: true, mode: 0o700 });
        await rename(temp, dir);
      } catch (err) {
        await rm(temp, { recursive: true, force: true });
        // Another staging kept the same entry meanwhile: theirs is as good.
        if (
          (err as NodeJS.ErrnoException).code === 'ENOTEMPTY' ||
          (err as NodeJS.ErrnoException).code === 'EEXIST'
        )
          return;
        throw err;
      }
      await evict(entryName(key));
    },
  };
}

/** Leftovers of interrupted writes, removed at start. */
export async function tidyCache(dir: string): Promise<void> {
  for (const e of await readdir(dir).catch(() => [] as string[]))
    if (e.startsWith('.tmp-')) await rm(join(dir, e), { recursive: true, force: true });
}
