import type { ColumnType, Generated } from 'kysely';

export const DOMAIN_STATES = ['pending', 'approved', 'rejected'] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];

/** How a claim was filed: through the API (CLI, console) or by a deploy's manifest `routes:`. */
export type DomainSource = 'api' | 'manifest';

/**
 * A service's claim on a host name besides its platform name. The host name is unique across all
 * departments: one name routes to one service. Routed only while `approved`.
 */
export interface ServiceDomainTable {
  id: Generated<string>;
  /** Normalised: lower case, no trailing dot, IDN as punycode. */
  hostname: string;
  service_id: string;
  /** The service's department, kept on the row so that every tenant query filters by it. */
  department_id: string;
  state: Generated<DomainState>;
  /** What `_govhost-challenge.<hostname>` must hold (TXT) when the DNS check is on. */
  token: string;
  source: DomainSource;
  requested_by: string;
  requested_at: ColumnType<Date, Date | undefined, never>;
  decided_by: string | null;
  decided_at: Date | null;
  reject_reason: string | null;
}

export interface EdgeDomainTables {
  service_domains: ServiceDomainTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends EdgeDomainTables {}
}
