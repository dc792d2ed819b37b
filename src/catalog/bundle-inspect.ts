/**
 * What a bundle is and how to start it, decided from the archive alone (nothing is unpacked to look),
 * and the one place that unpacks a bundle into a release folder.
 */
import { chmod, mkdir, mkdtemp, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { extract, type ReadEntry } from 'tar';
import { DomainError } from '../platform/errors.ts';
import {
  type BundleLimits,
  type BundleScan,
  checkEntry,
  DEFAULT_BUNDLE_LIMITS,
  scanBundle,
} from './bundle-scan.ts';
import { type AppManifest, defaultManifest, parseManifest, parseProcfile } from './manifest.ts';

export interface BundleInfo {
  /** Of the `.tar.gz` bytes, as stored by saveBundle. */
  sha256: string;
  /** `static`: files served by the router, no process. */
  kind: 'process' | 'static';
  /** Shell command line for a `process` bundle; null for `static`. */
  command: string | null;
  manifest: AppManifest;
  /** For the person deploying: ignored CF attributes, Procfile types GovHost does not run, etc. */
  warnings: string[];
  fileCount: number;
  unpackedBytes: number;
  /** Every entry, and the small files read (manifest, Procfile, package.json, requirements.txt…), for detection. */
  entries: ReadonlyMap<string, string>;
  contents: ReadonlyMap<string, Buffer>;
}

const MANIFEST_NAMES = ['manifest.yml', 'manifest.yaml'];
// What the builders detect an app by is read too (the build capability decides from these).
const READ = [
  ...MANIFEST_NAMES,
  'Procfile',
  'package.json',
  'requirements.txt',
  'runtime.txt',
  'pyproject.toml',
  'Staticfile',
];

const invalid = (detail: string) => new DomainError('GOVHOST_BUNDLE_INVALID', detail);

const text = (buf: Buffer) => buf.toString('utf8').replace(/^\uFEFF/, '');

/**
 * Checks a stored bundle and works out how it starts; rejects with GOVHOST_BUNDLE_INVALID or
 * GOVHOST_MANIFEST_INVALID (with `line` and `field`).
 * @example const { kind, command } = await inspectBundle(stored.path, { maxFiles: 50_000, maxUnpackedBytes: 2 ** 31 })
 */
export async function inspectBundle(tarPath: string, limits: BundleLimits): Promise<BundleInfo> {
  const scan = await scanBundle(tarPath, limits, READ);
  for (const name of READ) {
    const kind = scan.entries.get(name);
    // A link here would be read as empty now and as its target after unpacking: refuse the ambiguity.
    if (kind && kind !== 'file') throw invalid(`${name} must be a regular file, not a ${kind}`);
  }
  const present = MANIFEST_NAMES.filter((n) => scan.contents.has(n));
  if (present.length > 1) throw invalid('the bundle has both manifest.yml and manifest.yaml: keep one');

  const warnings: string[] = [];
  let manifest = defaultManifest();
  const manifestName = present[0];
  if (manifestName) {
    const parsed = parseManifest(text(scan.contents.get(manifestName)!), manifestName);
    manifest = parsed.manifest;
    warnings.push(...parsed.warnings);
  }
  const start = resolveStart(manifest, scan, warnings);
  return {
    sha256: scan.sha256,
    ...start,
    manifest,
    warnings,
    fileCount: scan.fileCount,
    unpackedBytes: scan.unpackedBytes,
    entries: scan.entries,
    contents: scan.contents,
  };
}

/**
 * The start command, in the order a developer would expect the more explicit to win: manifest,
 * Procfile, package.json, a conventional server.js, and finally a folder of static files.
 */
function resolveStart(
  manifest: AppManifest,
  scan: BundleScan,
  warnings: string[],
): Pick<BundleInfo, 'kind' | 'command'> {
  if (manifest.command) return { kind: 'process', command: manifest.command };
  const procfile = scan.contents.get('Procfile');
  if (procfile) {
    const parsed = parseProcfile(text(procfile));
    warnings.push(...parsed.warnings);
    if (parsed.web) return { kind: 'process', command: parsed.web };
    warnings.push('Procfile has no web: line, so GovHost looks elsewhere for the start command');
  }
  const pkg = scan.contents.get('package.json');
  if (pkg && hasStartScript(pkg)) return { kind: 'process', command: 'npm start' };
  if (scan.entries.get('server.js') === 'file') return { kind: 'process', command: 'node server.js' };
  // An executable jar at the top: as Cloud Foundry's Java buildpack, run it with `java -jar`.
  const jars = [...scan.entries].filter(([n, k]) => k === 'file' && !n.includes('/') && n.endsWith('.jar'));
  if (jars.length === 1) return { kind: 'process', command: `java -jar ${shellQuote(jars[0]![0])}` };
  if (scan.entries.get('index.html') === 'file') return { kind: 'static', command: null };
  throw invalid(
    'no way to start this app: looked for a command in manifest.yml, a web: line in a Procfile, ' +
      'a start script in package.json, a server.js, one executable .jar, or an index.html for a ' +
      'static site (a Python app with requirements.txt or pyproject.toml needs a Procfile web: line ' +
      'or a manifest command)',
  );
}

/** A file name as one shell word. */
const shellQuote = (s: string) => (/^[\w.@%+=:,/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function hasStartScript(pkg: Buffer): boolean {
  let json: unknown;
  try {
    json = JSON.parse(text(pkg));
  } catch (err) {
    throw invalid(`package.json is not valid JSON: ${(err as Error).message}`);
  }
  const start = (json as { scripts?: { start?: unknown } } | null)?.scripts?.start;
  return typeof start === 'string' && start.trim() !== '';
}

/**
 * Unpacks a bundle into `destDir`, which must not exist or be empty. The archive is checked again
 * first, so a caller that skipped inspectBundle still cannot unpack a hostile archive; and it is
 * unpacked beside `destDir` and renamed, so `destDir` is either complete or absent.
 */
export async function extractBundle(
  tarPath: string,
  destDir: string,
  limits: BundleLimits = DEFAULT_BUNDLE_LIMITS,
): Promise<void> {
  await scanBundle(tarPath, limits);
  await mkdir(dirname(destDir), { recursive: true });
  const temp = await mkdtemp(join(dirname(destDir), `.${basename(destDir)}.unpacking-`));
  try {
    let problem: unknown = null;
    await extract({
      file: tarPath,
      cwd: temp,
      preserveOwner: false,
      // Extracted files get today's time: `govhost push` packs with a fixed time (for stable hashes),
      // and the router's ETags come from mtime, which must change when a release does.
      noMtime: true,
      filter: (_path, entry) => {
        try {
          checkEntry(entry as ReadEntry);
        } catch (err) {
          problem ??= err;
          return false;
        }
        safeMode(entry as ReadEntry);
        return true;
      },
      // Every warning is a refusal; we wait for the end so that nothing writes after we clean up.
      onwarn: (_code, message) => {
        problem ??= invalid(`cannot unpack the bundle: ${message}`);
      },
    });
    if (problem) throw problem;
    // mkdtemp made it private; the release folder is read by the instance's user and the router.
    await chmod(temp, 0o755);
    await rmdir(destDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return;
      throw new Error(`cannot unpack into ${destDir}: it is not an empty folder (${err.code})`);
    });
    await rename(temp, destDir);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * No setuid, setgid or sticky bits and no group/other write, whatever the archive says (the platform
 * may unpack as root); and the owner may always read, write and enter, so the folder can be removed.
 */
function safeMode(entry: ReadEntry): void {
  const owner = entry.type === 'Directory' ? 0o700 : 0o600;
  entry.mode = ((entry.mode ?? 0o644) & 0o755) | owner;
}
