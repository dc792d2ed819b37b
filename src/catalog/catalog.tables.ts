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
  /** Desired number of running instances. */
  instances: Generated<number>;
  memory_mb: Generated<number>;
  current_release_id: string | null;
  /** OS user (uid, and its name) the service's processes run as; null until it first runs as root. */
  run_uid: number | null;
  run_user: string | null;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

export type ReleaseStatus = 'pending' | 'deploying' | 'live' | 'failed' | 'superseded';

export interface ReleaseTable {
  id: Generated<string>;
  service_id: string;
  version: number;
  bundle_sha256: string;
  /** The droplet the release runs; null until staged (and for releases older than droplets). */
  droplet_sha256: Generated<string | null>;
  kind: 'process' | 'static';
  command: string | null;
  manifest: unknown;
  /** The release's whole environment, sealed (encrypted) because it may hold secrets. */
  env_sealed: string;
  description: string;
  status: Generated<ReleaseStatus>;
  failure_reason: string | null;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
}

export interface ServiceEnvTable {
  service_id: string;
  key: string;
  /** Plain text, or sealed when `secret`. */
  value: string;
  secret: boolean;
  updated_at: ColumnType<Date, never, Date>;
}

export type DeploymentState = 'running' | 'succeeded' | 'failed';

export interface DeploymentTable {
  id: Generated<string>;
  service_id: string;
  release_id: string | null;
  /** deploy, rollback, env, scale, restart */
  kind: string;
  state: Generated<DeploymentState>;
  message: Generated<string>;
  created_by: string;
  started_at: ColumnType<Date, never, never>;
  finished_at: Date | null;
  /** Queue options (the runtime lease holder runs the row): a scale that replaces every instance. */
  replace_all: ColumnType<boolean, boolean | undefined, boolean>;
  /** A deploy that stages without the dependency cache. */
  no_cache: ColumnType<boolean, boolean | undefined, boolean>;
}

/**
 * One row per lifecycle state a service entered, with when: the history the SLA report needs
 * (a service owes its SLA only while `active`). Written in the transaction that changes the state.
 */
export interface ServiceLifecycleTable {
  /** Orders two changes with the same time (one transaction's `now()`). */
  id: Generated<string>;
  service_id: string;
  state: LifecycleState;
  at: ColumnType<Date, Date | undefined, never>;
}

export interface CatalogTables {
  services: ServiceTable;
  service_lifecycle: ServiceLifecycleTable;
  releases: ReleaseTable;
  service_env: ServiceEnvTable;
  deployments: DeploymentTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends CatalogTables {}
}
