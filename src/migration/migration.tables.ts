import type { ColumnType, Generated } from 'kysely';

/** The path of a legacy service to GovHost, in order; `blocked` stands beside it (decision 034). */
export const ITEM_STATES = [
  'inventoried',
  'assessed',
  'scheduled',
  'migrating',
  'parallel-run',
  'cut-over',
  'decommissioned',
  'blocked',
] as const;
export type ItemState = (typeof ITEM_STATES)[number];

export const COMPLEXITIES = ['low', 'medium', 'high'] as const;
export type Complexity = (typeof COMPLEXITIES)[number];

/** A wave of the programme: items planned to leave the legacy platform between two dates. */
export interface MigrationWaveTable {
  id: Generated<string>;
  /** 1, 2, 3…: the programme's own numbering, unique. */
  number: number;
  name: string;
  /** YYYY-MM-DD. */
  planned_start: string;
  planned_end: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** One legacy service to move: what it is, who owns it, where it goes, and where it stands. */
export interface MigrationItemTable {
  id: Generated<string>;
  department_id: string;
  /** The item's reference, unique in its department (e.g. the EGIS reference). */
  ref: string;
  name: string;
  source_platform: string;
  legacy_url: string | null;
  contacts: string[];
  technology: string | null;
  data_size_gb: number | null;
  /** null until assessed. */
  complexity: Complexity | null;
  /** The GovHost service it becomes, in the same department. */
  target_service_id: string | null;
  wave_id: string | null;
  /** Planned cut-over day, YYYY-MM-DD; null: the wave's end. */
  planned_on: string | null;
  state: Generated<ItemState>;
  /** While blocked: why, and the state it resumes to. */
  blocked_reason: string | null;
  blocked_from: ItemState | null;
  /** When it reached cut-over (its traffic left the legacy platform): the burndown's actual. */
  cut_over_at: Date | null;
  state_changed_at: ColumnType<Date, Date | undefined, Date>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** `item_id` cannot cut over before `depends_on_id` does (shown, not enforced: decision 034). */
export interface MigrationDependencyTable {
  item_id: string;
  depends_on_id: string;
}

/** Every step of an item, kept for its page (the audit log holds the same steps, chained). */
export interface MigrationStepTable {
  id: Generated<string>;
  item_id: string;
  from_state: ItemState | null;
  to_state: ItemState;
  reason: string | null;
  by_name: string;
  at: ColumnType<Date, Date | undefined, never>;
}

export interface MigrationTables {
  migration_waves: MigrationWaveTable;
  migration_items: MigrationItemTable;
  migration_dependencies: MigrationDependencyTable;
  migration_steps: MigrationStepTable;
}

// The capability adds its tables to the store's schema (`Db`): the platform's floor names no capability.
declare module '../platform/database.ts' {
  interface Database extends MigrationTables {}
}
