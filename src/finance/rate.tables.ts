import type { ColumnType } from 'kysely';

/**
 * Reserved capacity by the hour, requests answered by the thousand (0042), and the minutes the
 * platform spent staging a department's droplets (0045).
 */
export const RATE_RESOURCES = [
  'memory-gb-hour',
  'cpu-hour',
  'storage-gb-hour',
  'request-thousand',
  'staging-minute',
] as const;
export type RateResource = (typeof RATE_RESOURCES)[number];

/** One rate of the card: cents per unit from `valid_from` (a day, UTC) until the next. */
export interface FinanceRateTable {
  resource: RateResource;
  valid_from: ColumnType<string, string, string>;
  /** numeric: read as text, kept exact. */
  cents_per_unit: ColumnType<string, number, number>;
  note: ColumnType<string, string | undefined, string>;
  created_by: string;
  created_at: ColumnType<Date, Date | undefined, Date>;
}

export interface FinanceRateTables {
  finance_rates: FinanceRateTable;
}

declare module '../platform/database.ts' {
  interface Database extends FinanceRateTables {}
}
