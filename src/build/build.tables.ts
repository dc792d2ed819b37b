import type { ColumnType } from 'kysely';

/** How an instance of a droplet runs, relative to its app folder (the folder moves, this does not). */
export interface DropletRun {
  /** Folders, relative to the app folder, put first on PATH (a Python venv's `bin`). */
  pathPrepend: string[];
  /** Variables whose value is a path relative to the app folder (`VIRTUAL_ENV: .venv`). */
  pathEnv: Record<string, string>;
  /**
   * The start script, run by instances without npm when their command is `npm start` (see
   * builders/npm-scripts.ts); absent: the command runs as it is.
   */
  start?: { script: string; env: Record<string, string> };
}

/**
 * A droplet: a bundle staged by a builder (its dependencies installed, its start command resolved),
 * named by the SHA-256 of what went in. Immutable: the same inputs give the same row, never changed.
 */
export interface DropletTable {
  sha256: string;
  bundle_sha256: string;
  /** node, python, java, static, prebuilt */
  builder: string;
  /** The runtime it was built for and runs with, e.g. `node 20.19.2`, `python 3.11.2`. */
  runtime_version: string;
  kind: 'process' | 'static';
  command: string | null;
  run: ColumnType<DropletRun, string, string>;
  size_bytes: number;
  /** Seconds the staging took (0 when nothing was installed). */
  staging_seconds: number;
  /** The droplet's `.tar` in the blob store; null for droplets staged before the blob store. */
  blob_sha256: string | null;
  created_at: ColumnType<Date, never, never>;
}

/**
 * An upload URL given to a staging Job: single use (`used_at` is set by the first upload, whatever
 * becomes of it), and what it received once the archive's sha256 has been checked.
 */
export interface StagedUploadTable {
  id: string;
  release_id: string;
  max_bytes: number;
  used_at: Date | null;
  blob_sha256: string | null;
  size_bytes: number | null;
  run: ColumnType<DropletRun | null, string | null, string | null>;
  created_at: ColumnType<Date, never, never>;
}

/**
 * One staging that ran (a reused droplet runs none): whose it was and how long it took, kept after
 * its droplet, release and service are gone, so a past month can be priced again (0045).
 */
export interface StagingUsageTable {
  id: ColumnType<string, never, never>;
  release_id: string;
  service_id: string;
  department_id: string;
  /** `staged`: a droplet came of it (charged); `failed`: it did not (not charged, decision 046). */
  outcome: 'staged' | 'failed';
  /** numeric: read as text, kept exact to the millisecond. */
  seconds: ColumnType<string, number, number>;
  started_at: Date;
  finished_at: Date;
}

export interface BuildTables {
  droplets: DropletTable;
  staged_uploads: StagedUploadTable;
  staging_usage: StagingUsageTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends BuildTables {}
}
