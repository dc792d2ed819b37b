/**
 * The safety rules for an uploaded tarball, checked by reading its entries without writing any of
 * them: a bundle comes from a department's laptop or CI, and must not be able to write outside its
 * folder, smuggle in devices, or unpack into more than the disk it was given.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { DomainError } from '../platform/errors.ts';
import { formatBytes } from './bundle-store.ts';

export interface BundleLimits {
  /** Entries of any kind, folders included. */
  maxFiles: number;
  /** Sum of the sizes of the files once unpacked: the zip-bomb guard. */
  maxUnpackedBytes: number;
}

/** Generous enough for a Node app with its node_modules; callers pass their configured limits. */
export const DEFAULT_BUNDLE_LIMITS: BundleLimits = { maxFiles: 50_000, maxUnpackedBytes: 2 * 1024 ** 3 };

export type EntryKind = 'file' | 'directory' | 'symlink';

export interface BundleScan {
  sha256: string;
  fileCount: number;
  unpackedBytes: number;
  /** Every entry by its normalised path (`a/b.txt`, no `./`, no trailing `/`). */
  entries: Map<string, EntryKind>;
  /** Contents of the files asked for, when present as regular files. */
  contents: Map<string, Buffer>;
}

/** Files read into memory (manifest, Procfile, package.json) are small; a huge one is a mistake. */
const MAX_READ_BYTES = 1024 * 1024;

const invalid = (detail: string, entry?: string) =>
  new DomainError('GOVHOST_BUNDLE_INVALID', detail, entry === undefined ? {} : { entry });

const KINDS: Partial<Record<string, EntryKind>> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
  SymbolicLink: 'symlink',
};

const FORBIDDEN: Partial<Record<string, string>> = {
  Link: 'a hard link',
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a FIFO (named pipe)',
};

/**
 * Checks one entry on its own (path, type, link target) and returns its normalised path. The
 * extractor runs the same check on every entry it writes, as a second line of defence.
 */
export function checkEntry(entry: Pick<ReadEntry, 'path' | 'type' | 'linkpath'>): {
  path: string;
  kind: EntryKind;
} {
  const raw = entry.path;
  if (/^([\\/]|[A-Za-z]:)/.test(raw)) throw invalid(`entry "${raw}" has an absolute path`, raw);
  if (raw.split(/[\\/]/).includes('..')) throw invalid(`entry "${raw}" has a ".." path component`, raw);
  const path = normalise(raw);
  const kind = KINDS[entry.type];
  if (!kind) {
    const what = FORBIDDEN[entry.type] ?? `of type ${entry.type}`;
    const target = entry.type === 'Link' ? ` to "${entry.linkpath}"` : '';
    throw invalid(
      `entry "${raw}" is ${what}${target}: only files, folders and symbolic links are allowed`,
      raw,
    );
  }
  if (kind === 'symlink' && /^([\\/]|[A-Za-z]:)/.test(entry.linkpath ?? '')) {
    throw invalid(`symlink "${raw}" points to an absolute path (${entry.linkpath})`, raw);
  }
  return { path, kind };
}

/** `a/b/c` → `['a', 'a/b']`. */
const ancestors = (path: string) =>
  path
    .split('/')
    .slice(0, -1)
    .map((_, i, parts) => parts.slice(0, i + 1).join('/'));

/** `./a//b/` → `a/b`; the root itself → ''. */
function normalise(path: string): string {
  const n = posix.normalize(path.replace(/\\/g, '/')).replace(/\/+$/, '');
  return n === '.' ? '' : n;
}

/**
 * Follows a symlink through the bundle's other symlinks, as the kernel would, and says whether it
 * ends outside the bundle. A purely textual check is not enough: `t -> d/s/..` stays inside on
 * paper but leaves when `d/s` is itself a link to `../..`.
 */
export function followLink(
  linkPath: string,
  links: ReadonlyMap<string, string>,
): 'inside' | 'outside' | 'loop' {
  const pending = [...posix.dirname(linkPath).split('/'), ...(links.get(linkPath) ?? '').split('/')];
  const here: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (here.length === 0) return 'outside';
      here.pop();
      continue;
    }
    here.push(part);
    const target = links.get(here.join('/'));
    if (target === undefined) continue;
    // Linux gives up after 40 links (ELOOP); so do we.
    if (++hops > 40) return 'loop';
    if (target.startsWith('/')) return 'outside';
    here.pop();
    pending.unshift(...target.split('/'));
  }
  return 'inside';
}

/** The first bytes of every gzip stream; tar itself would also accept plain, zstd and brotli. */
async function assertGzip(tarPath: string): Promise<void> {
  const handle = await open(tarPath, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    if (bytesRead < 2 || buffer[0] !== 0x1f || buffer[1] !== 0x8b)
      throw invalid('not a gzip-compressed tar archive');
  } finally {
    await handle.close();
  }
}

/**
 * Turns node-tar's warnings and aborts into messages for the person who made the bundle. A damaged
 * first header means the gzip held something other than a tar (a zip, a lone file).
 */
function archiveError(code: string, message: string, sawEntry: boolean): DomainError {
  const notTar =
    (code === 'TAR_BAD_ARCHIVE' && /Unrecognized/.test(message)) ||
    (code === 'TAR_ENTRY_INVALID' && !sawEntry);
  if (notTar) return invalid('not a gzip-compressed tar archive');
  if (/decompression ratio/.test(message)) {
    return invalid(
      'the archive unpacks to more than 1000 times its compressed size, as only a zip bomb does',
    );
  }
  return invalid(`the archive is damaged or truncated: ${message}`);
}

/**
 * Reads every entry of a `.tar.gz` and applies the rules; rejects with GOVHOST_BUNDLE_INVALID naming
 * the first entry that breaks one. `read` names files whose contents the caller wants.
 */
export async function scanBundle(
  tarPath: string,
  limits: BundleLimits,
  read: readonly string[] = [],
): Promise<BundleScan> {
  await assertGzip(tarPath);
  const hash = createHash('sha256');
  const scan: BundleScan = {
    sha256: '',
    fileCount: 0,
    unpackedBytes: 0,
    entries: new Map(),
    contents: new Map(),
  };
  const links = new Map<string, string>();

  await new Promise<void>((resolve, reject) => {
    let failed = false;
    let sawEntry = false;
    const source = createReadStream(tarPath);
    const parser = new Parser({ onwarn: (code, message) => fail(archiveError(code, message, sawEntry)) });
    function fail(err: unknown) {
      if (failed) return;
      failed = true;
      source.destroy();
      parser.abort(new Error('stopped'));
      reject(err);
    }
    const onEntry = (entry: ReadEntry) => {
      sawEntry = true;
      const { path, kind } = checkEntry(entry);
      if (++scan.fileCount > limits.maxFiles)
        throw invalid(`the bundle has more than ${limits.maxFiles} entries`);
      // Sizes come from the headers, so a bomb is refused before a byte of it is inflated.
      scan.unpackedBytes += kind === 'file' ? entry.size : 0;
      if (scan.unpackedBytes > limits.maxUnpackedBytes) {
        const max = limits.maxUnpackedBytes;
        throw invalid(`the bundle unpacks to more than ${formatBytes(max)} (${max} bytes)`, entry.path);
      }
      scan.entries.set(path, kind);
      scan.contents.delete(path);
      if (kind === 'symlink') links.set(path, entry.linkpath!);
      else links.delete(path);
      if (kind === 'file' && read.includes(path)) {
        if (entry.size > MAX_READ_BYTES)
          throw invalid(`${path} is larger than ${formatBytes(MAX_READ_BYTES)}`, path);
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => scan.contents.set(path, Buffer.concat(chunks)));
      }
    };
    parser.on('entry', (entry: ReadEntry) => {
      try {
        if (!failed) onEntry(entry);
      } catch (err) {
        fail(err);
      }
      entry.resume();
    });
    // A pax header over 1 MiB is skipped by node-tar, which would quietly change the entry's path.
    parser.on('ignoredEntry', (entry: ReadEntry) => {
      if (entry.meta)
        fail(invalid(`entry "${entry.path}" has an extended header larger than 1 MiB`, entry.path));
    });
    parser.on('error', (err: Error & { tarCode?: string }) =>
      fail(archiveError(err.tarCode ?? '', err.message, sawEntry)),
    );
    parser.on('end', () => {
      if (!failed) resolve();
    });
    source.on('data', (chunk) => hash.update(chunk));
    source.on('error', fail);
    source.pipe(parser);
  });

  for (const path of scan.entries.keys()) {
    // Writing `a/x` when `a` is a link writes wherever `a` points; node-tar refuses, and so do we, early.
    const parent = ancestors(path).find((p) => links.has(p));
    if (parent) throw invalid(`entry "${path}" is inside "${parent}", which is a symlink`, path);
  }
  for (const path of links.keys()) {
    const where = followLink(path, links);
    if (where === 'outside')
      throw invalid(`symlink "${path}" points outside the bundle (${links.get(path)})`, path);
    if (where === 'loop') throw invalid(`symlink "${path}" is part of a loop of symbolic links`, path);
  }
  scan.sha256 = hash.digest('hex');
  return scan;
}
