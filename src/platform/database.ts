import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { AuditTables } from '../audit/audit.tables.ts';
import { loadAuditKey, withAuditKey } from '../audit/audit-key.ts';
import type { CapacityTables } from '../capacity/capacity.tables.ts';
import type { CatalogTables } from '../catalog/catalog.tables.ts';
import type { MonitoringTables } from '../monitoring/monitoring.tables.ts';
import type { ProvisioningTables } from '../provisioning/provisioning.tables.ts';
import type { TenancyTables } from '../tenancy/tenancy.tables.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import { dumpPglite, dumpPostgres } from './store-dump.ts';

/** Every table of the platform, each declared by the capability that owns it. */
export interface Database
  extends TenancyTables,
    CatalogTables,
    AuditTables,
    MonitoringTables,
    CapacityTables,
    ProvisioningTables {}

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
 * Opens PostgreSQL when a URL is given, otherwise PGlite in `<dataDir>/pgdata`. The handle carries
 * the audit chain's key (`auditKey`, else `<dataDir>/audit.key`), which the database never holds.
 */
export async function openDatabase(opts: {
  databaseUrl: string | null;
  dataDir: string;
  auditKey?: string | null;
}): Promise<DatabaseHandle> {
  const key = loadAuditKey({ dataDir: opts.dataDir, auditKey: opts.auditKey ?? null });
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
    // Fail at start with a clear message rather than on the first request.
    const client = await pool.connect();
    client.release();
    const db = withAuditKey(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), key);
    const url = opts.databaseUrl;
    return { db, kind: 'postgres', dump: (file) => dumpPostgres(url, file), close: () => db.destroy() };
  }
  const dir = join(opts.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  // int8 as a JS number, as with pg above (PGlite would give a BigInt).
  const pglite = await PGlite.create({ dataDir: dir, parsers: { 20: (v: string) => Number(v) } });
  const db = withAuditKey(new Kysely<Database>({ dialect: new PGliteDialect(pglite) }), key);
  return { db, kind: 'pglite', dump: (file) => dumpPglite(db, pglite, file), close: () => db.destroy() };
}
