/**
 * `govhost push` packs a folder into the bundle it uploads. The archive is built to pass the
 * platform's own checks (bundle-scan.ts) so that a department learns of a bad symlink on its own
 * machine, with its own paths in the message, not from an upload that fails.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, readlink, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { create } from 'tar';
import { CliError } from './errors.ts';

export interface PackedBundle {
  /** A `.tar.gz` in the OS temp folder; the caller removes it after the upload. */
  path: string;
  /** Files and symlinks packed (folders not counted). */
  files: number;
  /** Size of the `.tar.gz`, i.e. of the upload. */
  bytes: number;
}

/** Never part of a bundle: history, local GovHost state, and the ignore file itself. */
const DEFAULT_IGNORES = ['.git/', '.govhost/', '.govhostignore'];

// Every entry gets the same time, so that packing an unchanged folder again gives the same bytes,
// the same SHA-256, and so the bundle the platform already has. Unpacking sets fresh times.
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

/**
 * Node-tar stores a second name of a hard-linked file as a hard link, which bundles may not hold;
 * a cache that never remembers makes it store every name as a plain file.
 */
class NoHardLinks extends Map<`${number}:${number}`, string> {
  override set(): this {
    return this;
  }
}

const inside = (root: string, path: string) => path === root || path.startsWith(root + sep);

/**
 * Packs `dir` into a temporary `.tar.gz`, honouring `.govhostignore` (gitignore syntax).
 * @example const { path, files, bytes } = await packBundle('./my-app')
 */
export async function packBundle(dir: string): Promise<PackedBundle> {
  const root = resolve(dir);
  const info = await stat(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new CliError(`cannot pack ${dir}: there is no such folder`);
    throw err;
  });
  if (!info.isDirectory()) throw new CliError(`cannot pack ${dir}: it is a file, not a folder`);

  const rules = ignore();
  const own = await readFile(join(root, '.govhostignore'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  // The defaults come last so that a `!` line in .govhostignore cannot bring .git back.
  rules.add(own).add(DEFAULT_IGNORES);

  const entries: string[] = [];
  const walker = { root, realRoot: await realpath(root), rules, entries, files: 0 };
  await walk(walker, '');
  if (walker.files === 0) throw new CliError(`cannot pack ${dir}: there are no files to pack`);

  const out = join(tmpdir(), `govhost-bundle-${randomBytes(8).toString('hex')}.tar.gz`);
  try {
    await create(
      {
        file: out,
        cwd: root,
        gzip: true,
        // No owners, no host-specific metadata: the archive says only what the folder holds.
        portable: true,
        mtime: FIXED_MTIME,
        noDirRecurse: true,
        linkCache: new NoHardLinks(),
        mode: 0o600,
      },
      entries,
    );
  } catch (err) {
    await rm(out, { force: true });
    throw err;
  }
  return { path: out, files: walker.files, bytes: (await stat(out)).size };
}

interface Walker {
  root: string;
  realRoot: string;
  rules: Ignore;
  entries: string[];
  files: number;
}

/** Lists what goes in the archive, parents before children, in a stable (sorted) order. */
async function walk(w: Walker, rel: string): Promise<void> {
  const names = (await readdir(join(w.root, rel))).sort();
  for (const name of names) {
    const path = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(w.root, path));
    if (st.isDirectory()) {
      if (w.rules.ignores(`${path}/`)) continue;
      w.entries.push(path);
      await walk(w, path);
      continue;
    }
    if (w.rules.ignores(path)) continue;
    if (st.isSymbolicLink()) await checkLink(w, path);
    else if (!st.isFile()) {
      throw new CliError(`cannot pack ${path}: only files, folders and symbolic links can go in a bundle`);
    }
    w.entries.push(path);
    w.files++;
  }
}

/** A link must stay inside the folder both as written and as resolved on this disk. */
async function checkLink(w: Walker, path: string): Promise<void> {
  const full = join(w.root, path);
  const target = await readlink(full);
  const refuse = (why: string) =>
    new CliError(
      `cannot pack ${path}: it is a symlink to ${target}, ${why}; a bundle can only link to its own files`,
    );
  if (isAbsolute(target)) throw refuse('an absolute path');
  if (!inside(w.root, resolve(dirname(full), target))) throw refuse('which is outside the folder');
  const real = await realpath(full).catch(() => null); // a dangling link points nowhere, which is harmless
  if (real !== null && !inside(w.realRoot, real)) {
    throw refuse(`which resolves to ${real}, outside the folder`);
  }
}
