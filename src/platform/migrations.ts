import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { auditMigrations } from '../audit/audit.migrations.ts';
import { capacityMigrations } from '../capacity/capacity.migrations.ts';
import { forecastMigrations } from '../capacity/forecast.migrations.ts';
import {
  catalogMigrations,
  lifecycleMigrations,
  releaseMigrations,
  serviceUserMigrations,
} from '../catalog/catalog.migrations.ts';
import {
  alertingMigrations,
  hardeningMigrations,
  metricsMigrations,
  outageMigrations,
  statusMigrations,
} from '../monitoring/monitoring.migrations.ts';
import { provisioningMigrations } from '../provisioning/provisioning.migrations.ts';
import { tenancyMigrations } from '../tenancy/tenancy.migrations.ts';

/**
 * Every capability's migrations, in one forward-only sequence (names sort in the order they
 * must run). A migration, once released, is never edited: a change is a new migration.
 */
const ALL: Record<string, Migration> = {
  ...tenancyMigrations,
  ...catalogMigrations,
  ...auditMigrations,
  ...releaseMigrations,
  ...outageMigrations,
  ...metricsMigrations,
  ...alertingMigrations,
  ...statusMigrations,
  ...capacityMigrations,
  ...provisioningMigrations,
  ...forecastMigrations,
  ...hardeningMigrations,
  ...lifecycleMigrations,
  ...serviceUserMigrations,
};

const provider: MigrationProvider = { getMigrations: async () => ALL };

/** Applies every pending migration; throws, naming the migration, if one fails. */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const name = failed ? ` (${failed.migrationName})` : '';
    throw new Error(`database migration failed${name}: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
