import type { ColumnType } from 'kysely';
import type { CostModel } from './cost-model.ts';

/**
 * A finance user's copy of a business case: a whole cost model, edited as one document. The
 * paper's own scenario is built in (paper.ts) and never stored, so no one can change it.
 */
export interface FinanceScenarioTable {
  name: string;
  description: string;
  /** The scenario it was copied from, for the reader's sake; the copy stands alone. */
  based_on: string;
  model: ColumnType<CostModel, string, string>;
  updated_by: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface FinanceScenarioTables {
  finance_scenarios: FinanceScenarioTable;
}

declare module '../platform/database.ts' {
  interface Database extends FinanceScenarioTables {}
}
