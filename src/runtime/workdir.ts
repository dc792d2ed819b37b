import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lchown, lstat, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { copyTree } from '../build/cache-store.ts';
import { extractBundle } from '../catalog/bundle-inspect.ts';

const run = promisify(execFile);

const READY_MARK = '.govhost-release';

/** True when every folder above `dir` lets other users pass through (o+x). */
async function traversable(dir: string): Promise<boolean> {
  let d = resolve(dir);
  for (;;) {
    const parent = dirname(d);
    if (parent === d) return true;
    d = parent;
    try {
      if (((await stat(d)).mode & 0o001) === 0) return false;
    } catch {
      // Not made yet: it will be made by us, with a passable mode.
    }
  }
}

/**
 * The folder for services' working copies. Services run as their own users, so they must be
 * able to pass through its parents: a data folder under a private home (mode 0700) cannot be
 * used for them, and a folder under the system temp directory is used instead.
 */
export async function resolveAppsDir(
  dataDir: string,
  configured: string | null,
): Promise<{ dir: string; note: string | null }> {
  const wanted = configured ?? join(dataDir, 'apps');
  if (process.getuid?.() !== 0 || (await traversable(wanted))) return { dir: wanted, note: null };
  const hash = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `govhost-apps-${hash}`);
  return { dir, note: `${wanted} is not reachable by service users; working copies go to ${dir}` };
}

/**
 * Makes the apps folder and checks it is ours: as root, 0711 (each service passes through to its
 * own folder, none can list the others) and every service's folder in it 0700. A folder someone
 * else made or a symbolic link (in the shared temp directory, another user could plant either) is
 * refused rather than used.
 */
export async function prepareAppsDir(dir: string): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const s = await lstat(dir);
  if (!s.isDirectory() || s.uid !== process.getuid?.()) {
    throw new Error(
      `${dir} must be a folder owned by the platform's user (it is not): remove it or set GOVHOST_APPS_DIR`,
    );
  }
  await chmod(dir, asRoot ? 0o711 : 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await chmod(join(dir, entry.name), 0o700);
  }
}

async function chownTree(path: string, uid: number): Promise<void> {
  // lchown and lstat: a link in an app's folder must not make the platform (root) change the owner
  // of what it points to.
  await lchown(path, uid, uid);
  const s = await lstat(path);
  if (!s.isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), uid);
}

/**
 * The release's working copy, made once from its droplet (or, for a release older than droplets,
 * its bundle): `<appsDir>/<serviceId>/v<version>`.
 * When the platform runs as root the service's folder belongs to the service's own user with
 * mode 0700, so no other service can read it.
 */
export async function prepareWorkDir(opts: {
  appsDir: string;
  /** A droplet's folder to copy, or a bundle to unpack. */
  source: { dropletDir: string } | { bundlePath: string };
  serviceId: string;
  version: number;
  uid: number | null;
}): Promise<string> {
  const serviceDir = join(opts.appsDir, opts.serviceId);
  const dir = join(serviceDir, `v${opts.version}`);
  try {
    await stat(join(dir, READY_MARK));
    // Made before, maybe for another user (the service's OS user changed): give it to this one.
    if (opts.uid !== null && (await stat(serviceDir)).uid !== opts.uid) await chownTree(serviceDir, opts.uid);
    return dir;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(serviceDir, { recursive: true, mode: 0o700 });
  // Extract beside the final place and rename, so a crash never leaves a half-made release folder.
  const tmp = join(serviceDir, `.tmp-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { mode: 0o700 });
  try {
    if ('dropletDir' in opts.source) {
      // `cp` rather than fs.cp: several times faster for a droplet of a thousand files.
      await rm(tmp, { recursive: true, force: true });
      await copyTree(opts.source.dropletDir, tmp);
      await chmod(tmp, 0o755);
    } else await extractBundle(opts.source.bundlePath, tmp);
    await writeFile(join(tmp, READY_MARK), `${opts.version}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (opts.uid !== null) {
    // The service's folder and this release's copy (older copies were given to it when made).
    await lchown(serviceDir, opts.uid, opts.uid);
    await run('chown', ['-R', '-h', `${opts.uid}:${opts.uid}`, dir]);
  }
  return dir;
}

/** Removes the working copies of releases other than those to keep. */
export async function pruneWorkDirs(
  appsDir: string,
  serviceId: string,
  keepVersions: number[],
): Promise<void> {
  const serviceDir = join(appsDir, serviceId);
  let entries: string[];
  try {
    entries = await readdir(serviceDir);
  } catch {
    return;
  }
  const keep = new Set(keepVersions.map((v) => `v${v}`));
  for (const e of entries) {
    if (/^v\d+$/.test(e) && !keep.has(e)) await rm(join(serviceDir, e), { recursive: true, force: true });
  }
}

/** Makes a fixed-length random suffix for instance ids. */
export const shortId = () => randomBytes(3).toString('hex');

const INSTANCE_PREFIX = 'i-';

/**
 * An instance's own writable copy of its release's folder, `<appsDir>/<serviceId>/i-<instanceId>`:
 * the instances of one service never share files, and a new release starts from its droplet's
 * content again (the disk is ephemeral, as on Cloud Foundry). Made with `cp`, a reflink where the
 * file system has them (Btrfs, XFS), else a full copy (ext4): not a hard-link tree, whose files
 * an app writing in place would change for every instance and the release.
 */
export async function prepareInstanceDir(opts: {
  releaseDir: string;
  instanceId: string;
  uid: number | null;
}): Promise<string> {
  const dir = join(dirname(opts.releaseDir), `${INSTANCE_PREFIX}${opts.instanceId}`);
  await rm(dir, { recursive: true, force: true });
  await copyTree(opts.releaseDir, dir);
  await rm(join(dir, READY_MARK), { force: true });
  if (opts.uid !== null) await run('chown', ['-R', '-h', `${opts.uid}:${opts.uid}`, dir]);
  return dir;
}

/** Removes the folders of a service's instances that no longer run. */
export async function pruneInstanceDirs(
  appsDir: string,
  serviceId: string,
  running: ReadonlySet<string>,
): Promise<void> {
  const serviceDir = join(appsDir, serviceId);
  for (const e of await readdir(serviceDir).catch(() => [] as string[])) {
    if (e.startsWith(INSTANCE_PREFIX) && !running.has(e.slice(INSTANCE_PREFIX.length)))
      await rm(join(serviceDir, e), { recursive: true, force: true });
  }
}
