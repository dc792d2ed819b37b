/**
 * Copies of the whole store for backups, and loading one into an empty store. PGlite: its data
 * folder as a gzipped tarball (PGlite's own dumpDataDir), taken while the platform holds the one
 * connection, so no transaction is half-way; PostgreSQL: `pg_dump`'s custom format, loaded with
 * `pg_restore`, a snapshot of one transaction by construction.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import type { PGlite } from '@electric-sql/pglite';
import { type Kysely, sql } from 'kysely';

/** PGlite's data folder, gzipped, written to `file` (0600). */
export async function dumpPglite<T>(db: Kysely<T>, pglite: PGlite, file: string): Promise<void> {
  await db.connection().execute(async (conn) => {
    // Written out to the data files first, so the copy needs no WAL replay to be complete.
    await sql`checkpoint`.execute(conn);
    const blob = await pglite.dumpDataDir('gzip');
    await writeFile(file, Buffer.from(await blob.arrayBuffer()), { mode: 0o600 });
  });
}

/** Creates `<dataDir>/pgdata` from a dump made by dumpPglite. */
export async function loadPglite(pgdata: string, file: string): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const blob = new Blob([await readFile(file)]);
  const pglite = await PGlite.create({ dataDir: pgdata, loadDataDir: blob });
  await pglite.close();
}

/**
 * The libpq environment for a `postgres://` URL: the password travels in the child's environment,
 * never on its command line, where any local user could read it with `ps`.
 */
export function libpqEnv(databaseUrl: string): NodeJS.ProcessEnv {
  const u = new URL(databaseUrl);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (u.hostname) env.PGHOST = decodeURIComponent(u.hostname.replace(/^\[|\]$/g, ''));
  // `?host=/var/run/postgresql`: a Unix socket's folder, which the pg client takes over the name.
  const socket = u.searchParams.get('host');
  if (socket) env.PGHOST = socket;
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (name) env.PGDATABASE = name;
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

/** Runs a PostgreSQL client program; rejects with its own message when it fails. */
function runClient(program: string, args: string[], databaseUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: libpqEnv(databaseUrl), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code === 'ENOENT'
            ? `${program} is not installed (Debian: apt-get install postgresql-client)`
            : e.message,
        ),
      ),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${program} failed (exit ${code}): ${err.trim().slice(-2000)}`)),
    );
  });
}

/** `pg_dump --format=custom` of the database at `databaseUrl` into `file`. */
export function dumpPostgres(databaseUrl: string, file: string): Promise<void> {
  return runClient(
    'pg_dump',
    ['--format=custom', '--no-owner', '--no-privileges', `--file=${file}`],
    databaseUrl,
  );
}

/** Loads a dumpPostgres file into the (empty) database at `databaseUrl`. */
export function loadPostgres(databaseUrl: string, file: string): Promise<void> {
  // Host, user and password come from the environment; only the database's name is an argument.
  const name = libpqEnv(databaseUrl).PGDATABASE ?? 'postgres';
  const args = [
    '--no-owner',
    '--no-privileges',
    '--exit-on-error',
    '--single-transaction',
    `--dbname=${name}`,
    file,
  ];
  return runClient('pg_restore', args, databaseUrl);
}
