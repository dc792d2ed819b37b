import type { ColumnType, Generated } from 'kysely';
import type { PlannedDemandTable } from './demand.tables.ts';

export const FARM_STATES = ['planned', 'ordered', 'active', 'retired'] as const;
export type FarmState = (typeof FARM_STATES)[number];

/** A server farm: a pool of capacity the central team buys, commissions and retires. */
export interface FarmTable {
  id: Generated<string>;
  /** Short unique name, e.g. `FARM-01` or `local`. */
  code: string;
  name: string;
  vcpu: number;
  memory_mb: number;
  storage_gb: number;
  /** Electrical draw at idle and at full load, watts (energy is linear between them). */
  idle_watts: number;
  max_watts: number;
  /** Purchase cost, HK$. */
  cost_hkd: number;
  /** Procurement phase (1, 2, …) as planned in the business case. */
  phase: number;
  state: FarmState;
  /** Dates of each state, as planned or as happened. */
  ordered_on: Date | null;
  active_from: Date | null;
  retired_on: Date | null;
  /** Reservations may exceed capacity by these factors (1 = no overcommit). */
  cpu_overcommit: number;
  memory_overcommit: number;
  /** True for the host the local runtime runs on (registered at start with its real capacity). */
  is_local: boolean;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** One instance slot of a service holding memory, CPU and storage on a farm. */
export interface ReservationTable {
  id: Generated<string>;
  farm_id: string;
  service_id: string;
  department_id: string;
  /** 0 … instances-1: slots are stable while instances come and go across releases. */
  slot: number;
  memory_mb: number;
  cpu: number;
  /** Disk of the slot (the release's disk_quota); 0 for slots held before storage was reserved. */
  storage_mb: ColumnType<number, number | undefined, number>;
  created_at: ColumnType<Date, never, never>;
}

/**
 * A deploy, scale, service creation or hosting request that was refused for quota or capacity:
 * what expansion (or a bigger quota) must answer.
 */
export interface UnmetDemandTable {
  id: Generated<string>;
  department_id: string;
  /** Null when the demand came before a service existed (a hosting request). */
  service_id: string | null;
  service_key: string;
  /** New services asked for (1 for a refused service creation, else 0). */
  services: ColumnType<number, number | undefined, number>;
  instances: number;
  memory_mb: number;
  cpu: number;
  storage_mb: ColumnType<number, number | undefined, number>;
  reason: string;
  at: ColumnType<Date, Date | undefined, never>;
}

/** Limits per department; no row means the platform defaults. */
export interface DepartmentQuotaTable {
  department_id: string;
  memory_mb: number;
  instances: number;
  services: number;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface CapacityTables {
  farms: FarmTable;
  reservations: ReservationTable;
  unmet_demand: UnmetDemandTable;
  department_quotas: DepartmentQuotaTable;
  planned_demand: PlannedDemandTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends CapacityTables {}
}

/** A service's reservations over a span of time (0039, kept by a trigger on `reservations`). */
export interface ReservationIntervalTable {
  id: Generated<string>;
  service_id: string;
  department_id: string;
  instances: number;
  memory_mb: number;
  cpu: number;
  storage_mb: number;
  valid_from: Date;
  /** Null: still held. */
  valid_to: Date | null;
}

export interface ReservationIntervalTables {
  reservation_intervals: ReservationIntervalTable;
}

declare module '../platform/database.ts' {
  interface Database extends ReservationIntervalTables {}
}
