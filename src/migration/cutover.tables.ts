import type { ColumnType } from 'kysely';

/**
 * A service fronting the legacy service it replaces (decision 035): the router sends `percent` of
 * its requests (and all of `new_paths`) to the new release, the rest to `legacy_url`. One row per
 * service at most; set by operators only.
 */
export interface ServiceCutoverTable {
  service_id: string;
  /** The service's department, kept on the row so that every tenant query filters by it. */
  department_id: string;
  /** `http(s)://host[:port]`, checked against GOVHOST_LEGACY_ALLOW when set and when published. */
  legacy_url: string;
  /** Host header for the legacy upstream; null: the citizen's. */
  legacy_host: string | null;
  /** PEM CA certificates trusted for an HTTPS legacy upstream; null: Node's roots. */
  legacy_ca: string | null;
  /** Whole percent of requests for the new release, 0-100. */
  percent: number;
  new_paths: string[];
  sticky: boolean;
  /**
   * Percent of 5xx answers of the new release (over the alert window) that sends all traffic
   * back to the legacy service at once; null: no automatic fallback.
   */
  fallback_error_rate: number | null;
  updated_by: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface MigrationCutoverTables {
  service_cutovers: ServiceCutoverTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends MigrationCutoverTables {}
}
