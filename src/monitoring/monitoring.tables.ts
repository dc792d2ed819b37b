import type { ColumnType, Generated } from 'kysely';

export interface ServiceOutageTable {
  id: Generated<string>;
  service_id: string;
  started_at: Date;
  ended_at: Date | null;
  cause: string;
  created_at: ColumnType<Date, never, never>;
}

/** Monitoring's tables; each part of monitoring adds its own here. */
export interface MonitoringTables {
  service_outages: ServiceOutageTable;
}
