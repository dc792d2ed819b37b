import type { ColumnType, Generated } from 'kysely';

export interface ServiceOutageTable {
  id: Generated<string>;
  service_id: string;
  started_at: Date;
  ended_at: Date | null;
  cause: string;
  created_at: ColumnType<Date, never, never>;
}

export interface AlertRuleOverrideTable {
  service_id: string;
  rule: string;
  enabled: boolean;
  threshold: number | null;
  for_seconds: number | null;
  clear_seconds: number | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface AlertTable {
  id: Generated<string>;
  service_id: string;
  department_id: string;
  /** `DEPT/slug` when the alert fired, so that lists need no join with the catalogue. */
  service_key: string;
  rule: string;
  state: 'firing' | 'resolved';
  value: number | null;
  threshold: number | null;
  message: string;
  started_at: Date;
  resolved_at: Date | null;
}

export interface IncidentTable {
  id: Generated<number>;
  service_id: string;
  department_id: string;
  service_key: string;
  rule: string;
  alert_id: string | null;
  severity: string;
  title: string;
  state: 'open' | 'resolved';
  opened_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  assignee_id: string | null;
  assignee_name: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  time_to_acknowledge_sec: number | null;
  time_to_resolve_sec: number | null;
}

export type IncidentEventKind =
  | 'opened'
  | 'acknowledged'
  | 'assigned'
  | 'note'
  | 'notified'
  | 'resolved'
  | 'reopened';

export interface IncidentEventTable {
  id: Generated<number>;
  incident_id: number;
  kind: IncidentEventKind;
  actor_id: string | null;
  actor_name: string;
  detail: string;
  at: ColumnType<Date, Date | undefined, never>;
}

export interface NotificationChannelTable {
  id: Generated<string>;
  /** Null: a platform-wide channel, told of every department's incidents. */
  department_id: string | null;
  kind: 'webhook' | 'email';
  url: string | null;
  addresses: string[] | null;
  /** The webhook's signing secret, sealed with the platform's SecretBox. */
  secret_sealed: string | null;
  min_severity: string | null;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
}

export type OutboxState = 'pending' | 'sending' | 'delivered' | 'failed';

export interface NotificationOutboxTable {
  id: Generated<string>;
  /** Null: the row goes to people (`addresses`) by e-mail, not to a channel (0041). */
  channel_id: string | null;
  /** The e-mail addresses of the people told (a ticket's raiser and watchers); null for a channel's row. */
  addresses: string[] | null;
  /** Another capability's own sender (e.g. `payments`), which delivers the row itself (0046). */
  sender: string | null;
  /** To whom, in the sender's terms (for `payments`: the service id); set with `sender`. */
  target: string | null;
  /** Null: another capability's event (a support ticket's), sent through the same channels (0036). */
  incident_id: number | null;
  event: string;
  /** The exact JSON sent, so that every retry carries (and signs) the same bytes. */
  body: string;
  state: OutboxState;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | undefined, Date>;
  /** While `sending`: the claim holds until then; a crashed sender's claim lapses. */
  lease_until: Date | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: ColumnType<Date, never, never>;
}

export interface ConsoleNotificationTable {
  id: Generated<number>;
  department_id: string;
  incident_id: number;
  event: string;
  severity: string;
  service_key: string;
  message: string;
  at: ColumnType<Date, Date | undefined, never>;
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
  alert_rule_overrides: AlertRuleOverrideTable;
  alerts: AlertTable;
  incidents: IncidentTable;
  incident_events: IncidentEventTable;
  notification_channels: NotificationChannelTable;
  notification_outbox: NotificationOutboxTable;
  console_notifications: ConsoleNotificationTable;
  maintenance_notices: MaintenanceNoticeTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends MonitoringTables {}
}
