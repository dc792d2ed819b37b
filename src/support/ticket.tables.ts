import type { ColumnType, Generated } from 'kysely';

export const TICKET_KINDS = ['incident', 'service-request', 'question'] as const;
export type TicketKind = (typeof TICKET_KINDS)[number];

/** P1 is the most urgent; the same scale as the monitoring capability's incident severities. */
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** A ticket's way through the desk, in order (the moves allowed are in ticket-states.ts). */
export const TICKET_STATUSES = [
  'new',
  'acknowledged',
  'in-progress',
  'waiting-on-department',
  'resolved',
  'closed',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** One request from a department to the central team, or one the central team raises for it. */
export interface TicketTable {
  /** The desk's number, shown as `#42`: unique across departments. */
  id: Generated<number>;
  department_id: string;
  /** The service it is about; null: the platform itself. */
  service_id: string | null;
  kind: TicketKind;
  priority: Priority;
  title: string;
  description: string;
  status: Generated<TicketStatus>;
  /** The SLA tier its clocks follow, taken from the service when raised (silver without one). */
  sla_tier: string;
  raised_by_id: string | null;
  raised_by_name: string;
  /** Usernames told of public changes, beside the raiser. */
  watchers: string[];
  assignee_id: string | null;
  assignee_name: string | null;
  /** Monitoring incidents this ticket is about (checked through the monitoring capability). */
  incident_ids: number[];
  raised_at: ColumnType<Date, Date | undefined, never>;
  /** The central team's first answer: an acknowledgement, or its first public comment. */
  first_response_at: Date | null;
  resolved_at: Date | null;
  closed_at: Date | null;
  /** Set once each, by the SLA job: warned at 80 % of a target, breached past it. */
  response_warned_at: Date | null;
  response_breached_at: Date | null;
  resolution_warned_at: Date | null;
  resolution_breached_at: Date | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export const EVENT_KINDS = [
  'raised',
  'status',
  'comment',
  'assigned',
  'linked',
  'attachment',
  'watchers',
  'sla',
] as const;
export type TicketEventKind = (typeof EVENT_KINDS)[number];

/** The ticket's timeline: every change and comment; internal ones are never shown to departments. */
export interface TicketEventTable {
  id: Generated<number>;
  ticket_id: number;
  kind: TicketEventKind;
  internal: boolean;
  by_name: string;
  /** Status moves: from and to. */
  from_status: TicketStatus | null;
  to_status: TicketStatus | null;
  body: string;
  at: ColumnType<Date, Date | undefined, never>;
}

/** A file on a ticket: its bytes checked against an allow-list of types by content (decision 037). */
export interface TicketAttachmentTable {
  id: Generated<string>;
  ticket_id: number;
  filename: string;
  media_type: string;
  size_bytes: number;
  sha256: string;
  data: ColumnType<Uint8Array, Uint8Array, never>;
  by_name: string;
  at: ColumnType<Date, Date | undefined, never>;
}

/** How long the desk has, by priority and SLA tier; operators edit it. */
export interface SlaTargetTable {
  priority: Priority;
  tier: string;
  response_minutes: number;
  resolution_minutes: number;
  /** `24x7`: every minute counts; `business`: only the business-hours calendar's. */
  hours: '24x7' | 'business';
  updated_by: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface SupportTables {
  tickets: TicketTable;
  ticket_events: TicketEventTable;
  ticket_attachments: TicketAttachmentTable;
  sla_targets: SlaTargetTable;
}

declare module '../platform/database.ts' {
  interface Database extends SupportTables {}
}
