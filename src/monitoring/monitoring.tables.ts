import type { ColumnType, Generated } from 'kysely';

export interface ServiceOutageTable {
  id: Generated<string>;
  service_id: string;
  started_at: Date;
  ended_at: Date | null;
  cause: string;
  created_at: ColumnType<Date, never, never>;
}

export interface MaintenanceNoticeTable {
  id: Generated<string>;
  /** Null: the notice is platform-wide. */
  service_id: string | null;
  department_id: string | null;
  title: string;
  message: string;
  starts_at: Date;
  ends_at: Date;
  /** Username of the operator who posted it. */
  created_by: string;
  created_at: ColumnType<Date, never, never>;
  /** Set when cancelled; a window cancelled while under way ends there for the SLA. */
  cancelled_at: Date | null;
}

/** Monitoring's tables; each part of monitoring adds its own here. */
export interface MonitoringTables {
  service_outages: ServiceOutageTable;
  maintenance_notices: MaintenanceNoticeTable;
}
