import type { ColumnType, Generated } from 'kysely';
import type { Channel, Origin } from '../catalog/catalog.tables.ts';

export const REQUEST_STATES = ['pending', 'approved', 'rejected', 'cancelled'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/**
 * A department's request for hosting: the service it wants, its expected size and go-live date.
 * Approved means provisioned: the service exists, is sized and holds its capacity.
 */
export interface HostingRequestTable {
  id: Generated<string>;
  department_id: string;
  slug: string;
  name_en: string;
  name_zh: string;
  description: string;
  origin: Origin;
  egis_ref: string | null;
  channels: Channel[];
  personalised: boolean;
  sla_tier: string;
  instances: number;
  memory_mb: number;
  /** Share of one CPU per instance, as reserved on a farm. */
  cpu: number;
  /** Expected disk per instance, MiB, reserved on a farm's storage (0: not stated). */
  storage_mb: ColumnType<number, number | undefined, number>;
  /** `YYYY-MM-DD`; stored as a date, read back as text so no time zone shifts it. */
  go_live: ColumnType<string, string, string>;
  justification: string;
  /** Non-secret variables the service starts with. */
  environment: ColumnType<Record<string, string>, string, string>;
  state: Generated<RequestState>;
  /** Why the request waits for an operator (sentences from admission), empty once decided. */
  reasons: ColumnType<string[], string | undefined, string>;
  requested_by: string;
  /** Who approved, rejected (or, approved at submission, the requester). */
  decided_by: string | null;
  /** Approved by the platform at submission: inside quota and capacity. */
  auto_approved: Generated<boolean>;
  reject_reason: string | null;
  service_id: string | null;
  hostname: string | null;
  submitted_at: ColumnType<Date, Date | undefined, never>;
  approved_at: Date | null;
  rejected_at: Date | null;
  cancelled_at: Date | null;
  /** Submission to ready (provisioned), in milliseconds. */
  lead_time_ms: number | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ProvisioningTables {
  hosting_requests: HostingRequestTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends ProvisioningTables {}
}
