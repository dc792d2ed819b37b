/**
 * The data folder is the platform's alone: the store (PGlite's WAL holds password hashes and every
 * department's rows), bundles, keys, logs. Hosted apps run as other OS users on the same host, so
 * nothing in it may be readable or writable by anyone but the platform's own user.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/** Files the platform creates get no access for group or others, whatever the caller's umask. */
export const PRIVATE_UMASK = 0o077;

/** Sets the process umask, so that everything made from now on is private. */
export function setPrivateUmask(): void {
  process.umask(PRIVATE_UMASK);
}

/** True when `inner` is `outer` or lies below it. */
export function isInside(outer: string, inner: string): boolean {
  const rel = relative(resolve(outer), resolve(inner));
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/**
 * The data folder's own mode: 0700, or 0711 (others may pass through, never list or read) when
 * service users must reach their working copies in `<data>/apps`, i.e. when the platform runs as
 * root and the apps folder lies inside the data folder.
 */
export function dataDirMode(dataDir: string, appsDir: string | null): number {
  const asRoot = process.getuid?.() === 0;
  const appsInside = appsDir === null || isInside(dataDir, appsDir);
  return asRoot && appsInside ? 0o711 : 0o700;
}

/**
 * Makes (or repairs) the data folder: sets the umask, creates `dataDir` with its mode, and takes
 * group and other access away from everything below it, except the services' working copies,
 * whose modes the runtime sets. Returns how many entries had to be repaired (0 on a fresh or
 * healthy folder), so that the caller says it once in the log.
 */
export function makeDataDirPrivate(dataDir: string, appsDir: string | null): number {
  setPrivateUmask();
  const mode = dataDirMode(dataDir, appsDir);
  const made = mkdirSync(dataDir, { recursive: true, mode }) !== undefined;
  let repaired = 0;
  if ((lstatSync(dataDir).mode & 0o777) !== mode) {
    chmodSync(dataDir, mode);
    // The umask takes o+x off a folder just made: setting it is no repair.
    if (!made) repaired++;
  }
  const skip = resolve(appsDir ?? join(dataDir, 'apps'));
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (path === skip) continue;
      const s = lstatSync(path);
      // A symbolic link's own mode means nothing; what it points to is repaired where it lives.
      if (s.isSymbolicLink()) continue;
      if ((s.mode & 0o077) !== 0) {
        chmodSync(path, s.mode & 0o1700);
        repaired++;
      }
      if (s.isDirectory()) walk(path);
    }
  };
  walk(dataDir);
  return repaired;
}
