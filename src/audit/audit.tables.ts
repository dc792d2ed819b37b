import type { ColumnType, Generated } from 'kysely';

export interface AuditLogTable {
  seq: Generated<number>;
  at: ColumnType<Date, Date, never>;
  actor_id: string | null;
  actor_name: string;
  /** Department the change concerns, so department admins can read their own trail. */
  department_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  before: unknown;
  after: unknown;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: Generated<boolean>;
  seq: number;
  hash: string;
}

export interface AuditTables {
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends AuditTables {}
}
