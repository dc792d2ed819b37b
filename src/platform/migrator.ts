import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';

/**
 * Applies every pending migration of `all` (names sort in the order they must run); throws,
 * naming the migration, if one fails. The composition root (`src/server/migrations.ts`) gives
 * the list, so this floor knows no capability.
 */
export async function runMigrations(
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
  db: Kysely<any>,
  all: Record<string, Migration>,
): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => all };
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const name = failed ? ` (${failed.migrationName})` : '';
    throw new Error(`database migration failed${name}: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
