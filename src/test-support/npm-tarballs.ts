/**
 * npm package tarballs for tests, taken offline from the project's own install: a package named in
 * the project's package-lock.json and its whole dependency tree, as registry tarballs.
 *
 * Each tarball is the very file the public registry served, read from npm's content-addressed
 * cache (`npm ci` put it there) and checked against the lockfile's integrity. So a lockfile made
 * against the public registry installs unchanged from a test registry holding them, as it would
 * from a government network's mirror, which serves the same bytes. Only when the cache no longer
 * has a tarball is the installed folder packed instead (`repacked`): its bytes, and so its
 * integrity, then differ from the public one.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, list } from 'tar';
import { testRunDir } from './run-dir.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface NpmTarball {
  name: string;
  version: string;
  /** A gzipped tarball whose files sit under one top folder (`package/`), as npm publishes. */
  file: string;
  /** `sha512-<base64>` of the file. */
  integrity: string;
  /** True when packed from the installed folder because npm's cache did not have the original. */
  repacked: boolean;
}

interface LockEntry {
  version?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** The folder in `packages` that node would load `dep` from when required from `from`. */
function resolveFrom(packages: Record<string, LockEntry>, from: string, dep: string): string | null {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (!base) return null;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/** Lockfile folders of `name` and everything it needs at run time (optional ones when installed). */
export function dependencyTree(lock: { packages: Record<string, LockEntry> }, name: string): string[] {
  const start = resolveFrom(lock.packages, '', name);
  if (!start) throw new Error(`${name} is not in the project's package-lock.json`);
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const at = queue.pop()!;
    if (seen.has(at)) continue;
    seen.add(at);
    const entry = lock.packages[at]!;
    const optional = { ...entry.optionalDependencies };
    const peers = Object.keys(entry.peerDependencies ?? {}).filter(
      (p) => !entry.peerDependenciesMeta?.[p]?.optional,
    );
    for (const dep of [...Object.keys(entry.dependencies ?? {}), ...Object.keys(optional), ...peers]) {
      const found = resolveFrom(lock.packages, at, dep);
      if (found) queue.push(found);
      else if (!(dep in optional)) throw new Error(`${at} needs ${dep}, which the lockfile does not have`);
    }
  }
  return [...seen].sort();
}

/** npm's cache folder: `npm_config_cache` when set, else npm's default. */
const npmCache = () => process.env.npm_config_cache || join(homedir(), '.npm');

/** Where npm's cache keeps the content with this integrity (cacache's content-v2 layout). */
function cachedContent(integrity: string): string | null {
  const [algo, b64] = integrity.split(/\s+/)[0]!.split('-', 2) as [string, string | undefined];
  if (!b64) return null;
  const hex = Buffer.from(b64, 'base64').toString('hex');
  return join(npmCache(), '_cacache', 'content-v2', algo, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}

export function integrityOf(data: Buffer): string {
  return `sha512-${createHash('sha512').update(data).digest('base64')}`;
}

/** Packs an installed package folder the way npm publishes one: its files under `package/`. */
async function packFolder(folder: string, into: string): Promise<string> {
  const files = (await readdir(folder)).filter((f) => f !== 'node_modules');
  const file = join(into, 'package.tgz');
  await create({ gzip: true, portable: true, cwd: folder, prefix: 'package', file }, files);
  return file;
}

const made = new Map<string, Promise<NpmTarball[]>>();

/**
 * The tarballs of the installed package `name` and its dependency tree (memoised per process).
 * @example const tarballs = await projectPackageTree('express');
 */
export function projectPackageTree(name: string): Promise<NpmTarball[]> {
  const key = `${npmCache()}\0${name}`;
  let result = made.get(key);
  if (!result) {
    result = collect(name);
    made.set(key, result);
  }
  return result;
}

async function collect(name: string): Promise<NpmTarball[]> {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const out: NpmTarball[] = [];
  for (const at of dependencyTree(lock, name)) {
    const entry = lock.packages[at] as LockEntry;
    const pkg = JSON.parse(await readFile(join(ROOT, at, 'package.json'), 'utf8'));
    const cached = entry.integrity ? cachedContent(entry.integrity) : null;
    if (cached && existsSync(cached) && integrityOf(await readFile(cached)) === entry.integrity) {
      out.push({
        name: pkg.name,
        version: pkg.version,
        file: cached,
        integrity: entry.integrity!,
        repacked: false,
      });
      continue;
    }
    const into = await mkdtemp(join(await testRunDir(), 'npm-tarballs-'));
    const file = await packFolder(join(ROOT, at), into);
    out.push({
      name: pkg.name,
      version: pkg.version,
      file,
      integrity: integrityOf(await readFile(file)),
      repacked: true,
    });
  }
  return out;
}

/** The package.json inside a package tarball. */
export async function manifestOf(file: string): Promise<Record<string, unknown>> {
  let text: string | null = null;
  await list({
    file,
    // The top folder is `package/` for npm's own packer; a few old packages use another name.
    filter: (path) => /^[^/]+\/package\.json$/.test(path),
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => {
        text ??= Buffer.concat(chunks).toString('utf8');
      });
    },
  });
  if (text === null) throw new Error(`${file} has no package.json in its top folder`);
  return JSON.parse(text);
}

/**
 * Writes a package tarball of a test's own making (e.g. one whose install script fails), for
 * `NpmRegistry.publish`: `package.json` from `manifest` (with name and version) plus `files`.
 * @example await registry.publish(await makeNpmTarball({ name: 'broken', version: '1.0.0',
 *   manifest: { scripts: { install: 'exit 3' } } }));
 */
export async function makeNpmTarball(spec: {
  name: string;
  version: string;
  manifest?: Record<string, unknown>;
  files?: Record<string, string>;
}): Promise<Pick<NpmTarball, 'file'>> {
  const into = await mkdtemp(join(await testRunDir(), 'npm-made-'));
  const folder = join(into, 'package');
  await mkdir(folder);
  const manifest = { ...spec.manifest, name: spec.name, version: spec.version };
  await writeFile(join(folder, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [path, text] of Object.entries(spec.files ?? {})) {
    await mkdir(dirname(join(folder, path)), { recursive: true });
    await writeFile(join(folder, path), text);
  }
  return { file: await packFolder(folder, into) };
}
