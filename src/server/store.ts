import { loadAuditKey, withAuditKey } from '../audit/audit-key.ts';
import { type DatabaseHandle, openDatabase } from '../platform/database.ts';

/**
 * Opens the platform's store (PostgreSQL when a URL is given, else PGlite in the data folder)
 * with the audit chain's key (`auditKey`, else `<dataDir>/audit.key`), which the database
 * never holds. Every process that writes the store opens it here.
 */
export async function openStore(opts: {
  databaseUrl: string | null;
  dataDir: string;
  auditKey?: string | null;
}): Promise<DatabaseHandle> {
  const key = loadAuditKey({ dataDir: opts.dataDir, auditKey: opts.auditKey ?? null });
  return openDatabase(opts, (db) => withAuditKey(db, key));
}
