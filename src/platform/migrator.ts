import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

/** The advisory lock migrations run under (any constant of our own: 'govhost-migrate' as bytes). */
const MIGRATION_LOCK = 0x676f76686f7374;

/**
 * Applies every pending migration of `all` (names sort in the order they must run); throws,
 * naming the migration, if one fails. The composition root (`src/server/migrations.ts`) gives
 * the list, so this floor knows no capability. Replicas starting together on one PostgreSQL
 * migrate one at a time: the first under a session advisory lock, the others after it, finding
 * nothing left to do (Kysely's own lock covers the migrations but not the creation of its tables,
 * which two first starts would race).
 */
export async function runMigrations(
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
  db: Kysely<any>,
  all: Record<string, Migration>,
): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => all };
  // One connection holds the lock and runs the migrations (on PGlite, its only connection).
  const { error, results } = await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
    try {
      return await new Migrator({ db: conn, provider }).migrateToLatest();
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
    }
  });
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const name = failed ? ` (${failed.migrationName})` : '';
    throw new Error(`database migration failed${name}: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
