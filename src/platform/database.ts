import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect.ts';
import { dumpPglite, dumpPostgres } from './store-dump.ts';

/**
 * Every table of the platform. Empty here: each capability's `*.tables.ts` adds its own tables
 * by declaration merging (`declare module '../platform/database.ts'`), so a new capability plugs
 * its tables in without this floor importing it.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging, see above
export interface Database {}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Anything that runs queries: the database itself or an open transaction. */
export type Executor = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Writes a consistent copy of the whole store to `file` (store-dump.ts says in which format). */
  dump(file: string): Promise<void>;
  close(): Promise<void>;
}

// int8 (bigint) comes back as text from pg; our bigints (audit sequence) fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * Opens PostgreSQL when a URL is given, otherwise PGlite in `<dataDir>/pgdata`. `wrap` adds the
 * plugins every handle must carry (the audit chain's key): it is required, so that no opener
 * forgets it; the composition root's `openStore` (src/server/store.ts) gives it.
 */
export async function openDatabase(
  opts: { databaseUrl: string | null; dataDir: string },
  wrap: (db: Db) => Db,
): Promise<DatabaseHandle> {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: 10,
      // A link that drops without a reset is found by the kernel, and a server that does not
      // answer fails a checkout, instead of hanging a request (or a lease renewal) for ever.
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection the server ends (a restart, a terminated backend) is dropped by the pool
    // and opened again when needed; unhandled, its 'error' event would end the whole process.
    pool.on('error', (err) =>
      process.emitWarning(`a PostgreSQL connection ended while idle: ${err.message}`),
    );
    // Fail at start with a clear message rather than on the first request.
    const client = await pool.connect();
    client.release();
    const db = wrap(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }));
    const url = opts.databaseUrl;
    return { db, kind: 'postgres', dump: (file) => dumpPostgres(url, file), close: () => db.destroy() };
  }
  const dir = join(opts.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  // Loaded only for PGlite: a control plane on PostgreSQL never needs its 20-odd MB of code.
  const { PGlite } = await import('@electric-sql/pglite');
  // int8 as a JS number, as with pg above (PGlite would give a BigInt).
  const pglite = await PGlite.create({ dataDir: dir, parsers: { 20: (v: string) => Number(v) } });
  const db = wrap(new Kysely<Database>({ dialect: new PGliteDialect(pglite) }));
  return { db, kind: 'pglite', dump: (file) => dumpPglite(db, pglite, file), close: () => db.destroy() };
}
