import type { ColumnType } from 'kysely';

export const BUDGET_PERIODS = ['month', 'year'] as const;
/** A calendar month (UTC) or a financial year (April to March). */
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** A department's budget for each month or each financial year, with the percentages it alerts at. */
export interface FinanceBudgetTable {
  department_id: string;
  period: BudgetPeriod;
  amount_cents: ColumnType<string, number, number>;
  thresholds: number[];
  set_by: string;
  set_at: ColumnType<Date, Date | undefined, Date>;
}

/** A threshold crossed in one period (`2027-04` or `2027-28`) of one budget amount: told once. */
export interface FinanceBudgetAlertTable {
  department_id: string;
  period: BudgetPeriod;
  period_key: string;
  threshold: number;
  amount_cents: ColumnType<string, number, number>;
  spent_cents: ColumnType<string, number, number>;
  alerted_at: ColumnType<Date, Date | undefined, Date>;
}

export interface FinanceBudgetTables {
  finance_budgets: FinanceBudgetTable;
  finance_budget_alerts: FinanceBudgetAlertTable;
}

declare module '../platform/database.ts' {
  interface Database extends FinanceBudgetTables {}
}
