/**
 * Backups of a running platform and their restore into an empty data folder (or database).
 *
 * An archive (gzipped tar) holds one folder, `govhost-backup/`: `manifest.json` (format, store
 * kind, when, every file with its size and sha256), the store (`store/pgdata.tar.gz` from PGlite
 * or `store/postgres.dump` from pg_dump), the bundles every release was built from
 * (`bundles/<sha256>.tar.gz`, content-addressed) and the keys (`keys/secret.key`,
 * `keys/audit.key`): secret material, said so in the manifest and in `SECRET-MATERIAL.txt`.
 * The store is copied first and the bundles after: bundles are immutable and written before the
 * release that names them, so every bundle the copied store refers to is in the archive.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import {
  chmod,
  copyFile,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import type { DatabaseHandle } from '../platform/database.ts';
import { loadPglite, loadPostgres } from '../platform/store-dump.ts';

export const BACKUP_FORMAT = 1;
const ROOT = 'govhost-backup';
/** Key files of the data folder, each kept when present (a key given in the environment is not). */
export const KEY_FILES = ['secret.key', 'audit.key'] as const;

export interface BackupManifest {
  format: number;
  createdAt: string;
  store: 'pglite' | 'postgres';
  files: { path: string; bytes: number; sha256: string }[];
  /** Files that are secret material: whoever holds them can read every secret variable. */
  secret: string[];
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Links a file into the staging folder (same file system, no copy), copying when it cannot. */
async function place(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

/**
 * Stages a backup of the running platform in a private folder under the data folder and returns
 * the archive as a stream; the staging folder is removed when the stream ends or fails.
 */
export async function createBackup(
  store: Pick<DatabaseHandle, 'kind' | 'dump'>,
  dataDir: string,
): Promise<Readable> {
  const staging = join(dataDir, `.backup-${randomBytes(6).toString('hex')}`);
  const dir = join(staging, ROOT);
  try {
    await mkdir(join(dir, 'store'), { recursive: true, mode: 0o700 });
    await mkdir(join(dir, 'bundles'), { mode: 0o700 });
    await mkdir(join(dir, 'keys'), { mode: 0o700 });
    const storeFile = store.kind === 'pglite' ? 'store/pgdata.tar.gz' : 'store/postgres.dump';
    await store.dump(join(dir, storeFile));
    const paths = [storeFile];
    const bundles = join(dataDir, 'bundles');
    for (const name of existsSync(bundles) ? (await readdir(bundles)).sort() : []) {
      if (!/^[0-9a-f]{64}\.tar\.gz$/.test(name)) continue; // uploads in progress, temp files
      await place(join(bundles, name), join(dir, 'bundles', name));
      paths.push(`bundles/${name}`);
    }
    const secret: string[] = [];
    for (const key of KEY_FILES) {
      if (!existsSync(join(dataDir, key))) continue;
      await copyFile(join(dataDir, key), join(dir, 'keys', key));
      paths.push(`keys/${key}`);
      secret.push(`keys/${key}`);
    }
    const files = [];
    for (const path of paths) {
      const full = join(dir, path);
      files.push({ path, bytes: (await stat(full)).size, sha256: await sha256Of(full) });
    }
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      store: store.kind,
      files,
      secret,
    };
    await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await writeFile(
      join(dir, 'SECRET-MATERIAL.txt'),
      "This archive holds the platform's keys (keys/). Whoever has it can read every secret\n" +
        'variable of every service and sign audit records. Keep it as you keep those keys.\n',
    );
    const packed = tar.c({ gzip: true, cwd: staging, portable: true }, [
      ROOT,
    ]) as unknown as AsyncIterable<Buffer>;
    // The stream ends only once the staging folder is gone, and a reader that stops early (a
    // client that hung up) removes it too.
    async function* archive(): AsyncGenerator<Buffer> {
      try {
        yield* packed;
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
    return Readable.from(archive());
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** A restore that cannot go ahead; the message says why and what to do. */
export class RestoreError extends Error {}

/** True when the data folder holds nothing of a platform (a lock, a store, bundles or keys). */
function holdsPlatform(dataDir: string): string | null {
  for (const name of ['pgdata', 'bundles', ...KEY_FILES]) {
    if (existsSync(join(dataDir, name))) return name;
  }
  return null;
}

/**
 * Restores an archive made by createBackup: checks every file against the manifest, then puts
 * the keys and bundles into `dataDir` and loads the store (PGlite in `dataDir`, or the empty
 * PostgreSQL database at `databaseUrl`). Refuses a data folder that already holds a platform.
 */
export async function restoreBackup(opts: {
  archive: string;
  dataDir: string;
  databaseUrl: string | null;
}): Promise<BackupManifest> {
  const taken = holdsPlatform(opts.dataDir);
  if (taken) {
    throw new RestoreError(
      `${opts.dataDir} already holds a platform (${taken}): restore into an empty data folder (GOVHOST_DATA_DIR)`,
    );
  }
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const work = join(opts.dataDir, `.restore-${randomBytes(6).toString('hex')}`);
  await mkdir(work, { mode: 0o700 });
  try {
    try {
      // Only plain files and folders, only under the archive's own folder.
      await tar.x({
        file: opts.archive,
        cwd: work,
        strict: true,
        filter: (path, entry) =>
          (path === ROOT || path.startsWith(`${ROOT}/`)) &&
          ('type' in entry ? entry.type === 'File' || entry.type === 'Directory' : true),
      });
    } catch (err) {
      throw new RestoreError(`${opts.archive} is not a GovHost backup: ${(err as Error).message}`);
    }
    const dir = join(work, ROOT);
    let manifest: BackupManifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BackupManifest;
    } catch {
      throw new RestoreError(`${opts.archive} is not a GovHost backup: it has no readable manifest.json`);
    }
    if (manifest.format !== BACKUP_FORMAT) {
      throw new RestoreError(
        `backup format ${manifest.format} is not known to this version (${BACKUP_FORMAT})`,
      );
    }
    for (const f of manifest.files) {
      const full = join(dir, f.path);
      if (
        !/^(store|bundles|keys)\/[\w.-]+$/.test(f.path) ||
        !existsSync(full) ||
        (await sha256Of(full)) !== f.sha256
      ) {
        throw new RestoreError(`${f.path} is missing from the backup or does not match its manifest`);
      }
    }
    const wantKind = opts.databaseUrl ? 'postgres' : 'pglite';
    if (manifest.store !== wantKind) {
      throw new RestoreError(
        `the backup holds a ${manifest.store} store, but this platform is configured for ${wantKind}` +
          (wantKind === 'postgres' ? ' (unset DATABASE_URL)' : ' (set DATABASE_URL)'),
      );
    }
    if (opts.databaseUrl) await loadPostgres(opts.databaseUrl, join(dir, 'store/postgres.dump'));
    else await loadPglite(join(opts.dataDir, 'pgdata'), join(dir, 'store/pgdata.tar.gz'));
    await mkdir(join(opts.dataDir, 'bundles'), { recursive: true, mode: 0o700 });
    for (const f of manifest.files) {
      const [kind, name] = f.path.split('/') as [string, string];
      if (kind === 'bundles') await rename(join(dir, f.path), join(opts.dataDir, 'bundles', name));
      if (kind === 'keys') {
        await rename(join(dir, f.path), join(opts.dataDir, name));
        await chmod(join(opts.dataDir, name), 0o600);
      }
    }
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
