import type { ColumnType, Generated } from 'kysely';
import type { SlaTier } from '../catalog/sla-tiers.ts';

export const DEMAND_KINDS = ['hosting-request', 'migration-wave', 'growth'] as const;
export type DemandKind = (typeof DEMAND_KINDS)[number];

/**
 * One line of the demand pipeline: capacity the platform expects to need from a month on.
 * `hosting-request` and `migration-wave` lines bring `services` × `instances_per_service` new
 * instance slots; a `growth` line grows existing reservations (of its department, or all when it
 * has none) by `growth_pct_per_month`, compounded, from its month on.
 */
export interface PlannedDemandTable {
  id: Generated<string>;
  kind: DemandKind;
  department_id: string | null;
  services: number;
  instances_per_service: number;
  memory_mb_per_instance: number;
  cpu_per_instance: number;
  storage_mb_per_instance: ColumnType<number, number | undefined, number>;
  growth_pct_per_month: number | null;
  /** `YYYY-MM`. */
  go_live: string;
  /** Null for the baseline; a name groups what-if lines that the forecast adds on request. */
  scenario: string | null;
  note: string;
  /** The record that made this line (a hosting request's id), so it can be taken out again. */
  source_id: string | null;
  /** The services' SLA tier when the line names one: gold ones are spread over two farms. */
  sla_tier: ColumnType<SlaTier | null, SlaTier | null | undefined, SlaTier | null>;
  created_at: ColumnType<Date, never, never>;
}
