import type { ColumnType, Generated } from 'kysely';

export const ORIGINS = ['migrated', 'new'] as const;
export const CHANNELS = ['web', 'mobile'] as const;
export const LIFECYCLE_STATES = ['planned', 'active', 'suspended', 'retired'] as const;
export type Origin = (typeof ORIGINS)[number];
export type Channel = (typeof CHANNELS)[number];
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export interface ServiceTable {
  id: Generated<string>;
  department_id: string;
  slug: string;
  name_en: string;
  name_zh: string;
  description: string;
  origin: Origin;
  /** Identifier of the service on the legacy EGIS platform, for migrated services. */
  egis_ref: string | null;
  channels: Channel[];
  personalised: boolean;
  sla_tier: string;
  lifecycle: Generated<LifecycleState>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

export interface CatalogTables {
  services: ServiceTable;
}
