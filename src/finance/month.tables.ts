import type { ColumnType, Generated } from 'kysely';
import type { Statement } from './statement.ts';

export interface FinanceClosedMonthTable {
  month: string;
  closed_by: string;
  closed_at: ColumnType<Date, Date | undefined, Date>;
}

/** A department's statement as it stood when its month was closed. */
export interface FinanceStatementTable {
  month: string;
  department_id: string;
  statement: ColumnType<Statement, string, string>;
}

/** A correction in cents (either sign), booked in an open `month`, for `for_month` when it corrects one. */
export interface FinanceAdjustmentTable {
  id: Generated<string>;
  department_id: string;
  month: string;
  for_month: string | null;
  amount_cents: ColumnType<string, number, number>;
  reason: string;
  created_by: string;
  created_at: ColumnType<Date, Date | undefined, Date>;
}

export interface FinanceMonthTables {
  finance_closed_months: FinanceClosedMonthTable;
  finance_statements: FinanceStatementTable;
  finance_adjustments: FinanceAdjustmentTable;
}

declare module '../platform/database.ts' {
  interface Database extends FinanceMonthTables {}
}
