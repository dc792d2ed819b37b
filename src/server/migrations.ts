import type { Kysely, Migration } from 'kysely';
import { auditMigrations } from '../audit/audit.migrations.ts';
import { blobMigrations } from '../blobs/blob.migrations.ts';
import { buildMigrations } from '../build/build.migrations.ts';
import { capacityMigrations } from '../capacity/capacity.migrations.ts';
import { forecastMigrations } from '../capacity/forecast.migrations.ts';
import {
  catalogMigrations,
  dropletMigrations,
  lifecycleMigrations,
  releaseMigrations,
  serviceUserMigrations,
} from '../catalog/catalog.migrations.ts';
import { clusterMigrations } from '../cluster/cluster.migrations.ts';
import { acmeMigrations } from '../edge/acme.migrations.ts';
import { certificateMigrations } from '../edge/certificates.migrations.ts';
import { domainMigrations } from '../edge/domains.migrations.ts';
import { financeMigrations } from '../finance/finance.migrations.ts';
import { cutoverMigrations } from '../migration/cutover.migrations.ts';
import { migrationMigrations } from '../migration/migration.migrations.ts';
import {
  alertingMigrations,
  certificateAlertMigrations,
  hardeningMigrations,
  metricsMigrations,
  outageMigrations,
  outboxEventMigrations,
  statusMigrations,
} from '../monitoring/monitoring.migrations.ts';
import { hostedPaymentMigrations } from '../payments/hosted.migrations.ts';
import { paymentMigrations } from '../payments/payments.migrations.ts';
import { settlementMigrations } from '../payments/settlement.migrations.ts';
import { paymentWebhookMigrations } from '../payments/webhook.migrations.ts';
import { runMigrations } from '../platform/migrator.ts';
import { provisioningMigrations } from '../provisioning/provisioning.migrations.ts';
import { runtimeMigrations } from '../runtime/runtime.migrations.ts';
import { supportMigrations } from '../support/support.migrations.ts';
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
  ...buildMigrations,
  ...dropletMigrations,
  ...clusterMigrations,
  ...runtimeMigrations,
  ...blobMigrations,
  ...certificateMigrations,
  ...acmeMigrations,
  ...certificateAlertMigrations,
  ...domainMigrations,
  ...migrationMigrations,
  ...cutoverMigrations,
  ...supportMigrations,
  ...outboxEventMigrations,
  ...paymentMigrations,
  ...financeMigrations,
  ...hostedPaymentMigrations,
  ...settlementMigrations,
  ...paymentWebhookMigrations,
};

/** Applies every pending migration of every capability. */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
export const migrateToLatest = (db: Kysely<any>): Promise<string[]> => runMigrations(db, ALL);
