import type { ColumnType } from 'kysely';

/**
 * One row per piece of work that must run on one control-plane replica at a time. `generation`
 * grows each time the lease changes hands: a holder checks it on the writes that matter (fencing),
 * so one that lost its lease without noticing cannot overwrite its successor's work.
 */
export interface LeaseTable {
  name: string;
  holder: string;
  generation: ColumnType<number, number, number>;
  /** Set from the database's clock, never a replica's: replicas' clocks may disagree. */
  expires_at: ColumnType<Date, never, never>;
  acquired_at: ColumnType<Date, never, never>;
}

/**
 * Fingerprints (an HMAC of a fixed label, never the key) of the keys every replica must share:
 * a replica started with another key is refused before it writes anything.
 */
export interface ClusterKeyTable {
  name: string;
  fingerprint: string;
}

export interface ClusterTables {
  leases: LeaseTable;
  cluster_keys: ClusterKeyTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends ClusterTables {}
}
