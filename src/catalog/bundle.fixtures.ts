/**
 * Test helpers for bundles: real folders, real tarballs made by node-tar, and hand-built archives
 * for the hostile cases that node-tar's own packer refuses to write.
 */
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create, Header, type HeaderData } from 'tar';

/** A fresh folder under the OS temp folder, and a function to remove it. */
export async function tempDir(
  prefix = 'govhost-bundle-test-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export type Tree = Record<string, string | Buffer | { symlink: string }>;

/** Writes files (and symlinks) under `dir`, making folders as needed. */
export async function writeTree(dir: string, tree: Tree): Promise<void> {
  for (const [path, content] of Object.entries(tree)) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    if (typeof content === 'object' && 'symlink' in content) await symlink(content.symlink, full);
    else await writeFile(full, content);
  }
}

/** A `.tar.gz` of `tree`, made the ordinary way with node-tar. */
export async function tarballOf(workDir: string, tree: Tree, name = 'bundle.tar.gz'): Promise<string> {
  const src = join(workDir, `${name}.src`);
  await mkdir(src, { recursive: true });
  await writeTree(src, tree);
  const out = join(workDir, name);
  await create({ gzip: true, file: out, cwd: src, portable: true }, await readdir(src));
  return out;
}

export interface RawEntry extends HeaderData {
  path: string;
  body?: string;
}

/**
 * A `.tar.gz` written header by header, so that an entry can claim anything: an absolute path, a
 * `..`, a device, a size it does not have. `gzip: false` leaves it a plain tar.
 */
export async function craftTarball(
  workDir: string,
  entries: RawEntry[],
  { name = 'crafted.tar.gz', gzip = true } = {},
): Promise<string> {
  const blocks: Buffer[] = [];
  for (const { body, ...data } of entries) {
    const content = Buffer.from(body ?? '');
    const header = new Header({
      mode: data.type === 'Directory' ? 0o755 : 0o644,
      mtime: new Date('2024-01-01T00:00:00Z'),
      uid: 0,
      gid: 0,
      size: content.length,
      type: 'File',
      ...data,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const tar = Buffer.concat(blocks);
  const out = join(workDir, name);
  await writeFile(out, gzip ? gzipSync(tar) : tar);
  return out;
}

/** Names in a folder, or null when it does not exist: "nothing was extracted" in one call. */
export async function listing(dir: string): Promise<string[] | null> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
