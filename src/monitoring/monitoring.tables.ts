import type { ColumnType, Generated } from 'kysely';

export interface ServiceOutageTable {
  id: Generated<string>;
  service_id: string;
  started_at: Date;
  ended_at: Date | null;
  cause: string;
  created_at: ColumnType<Date, never, never>;
}

/** One minute of one service (bigint columns come back as strings or bigints: use Number()). */
export interface ServiceMinuteTable {
  service_id: string;
  minute: Date;
  probes_total: number;
  probes_failed: number;
  probe_ms_sum: number;
  req_1xx: ColumnType<string | number | bigint, number, never>;
  req_2xx: ColumnType<string | number | bigint, number, never>;
  req_3xx: ColumnType<string | number | bigint, number, never>;
  req_4xx: ColumnType<string | number | bigint, number, never>;
  req_5xx: ColumnType<string | number | bigint, number, never>;
  latency_buckets: ColumnType<(string | number | bigint)[], number[], never>;
  latency_ms_sum: number;
  instances_total: number;
  instances_healthy: number;
}

export interface InstanceMinuteTable {
  service_id: string;
  instance_id: string;
  minute: Date;
  cpu_seconds: number;
  memory_max_bytes: ColumnType<string | number | bigint | null, number | null, never>;
  memory_limit_bytes: ColumnType<string | number | bigint, number, never>;
  restarts: number;
  state: string;
}

/** Monitoring's tables; each part of monitoring adds its own here. */
export interface MonitoringTables {
  service_outages: ServiceOutageTable;
  service_minutes: ServiceMinuteTable;
  instance_minutes: InstanceMinuteTable;
}
