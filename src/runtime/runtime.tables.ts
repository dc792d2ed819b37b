import type { ColumnType } from 'kysely';

/**
 * The runtime lease holder's view of the instances it runs, kept current by it (a snapshot
 * rewritten on every change): every other replica answers status, summaries and logs from here.
 */
export interface RuntimeInstanceTable {
  instance_id: string;
  service_id: string;
  /** The driver's `InstanceStatus`, as JSON. */
  status: ColumnType<unknown, string, string>;
  serving: boolean;
}

/** Per service: the OS user it runs as, and its last failed rollout's instance (whose log says why). */
export interface RuntimeServiceTable {
  service_id: string;
  run_as: ColumnType<unknown, string | null, string | null>;
  failed_instance: string | null;
}

/** Host-wide facts the holder publishes: `isolation` (network and users), `router` (its port). */
export interface RuntimeStateTable {
  name: string;
  value: ColumnType<unknown, string, string>;
  updated_at: ColumnType<Date, never, never>;
}

export interface RuntimeTables {
  runtime_instances: RuntimeInstanceTable;
  runtime_services: RuntimeServiceTable;
  runtime_state: RuntimeStateTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends RuntimeTables {}
}
