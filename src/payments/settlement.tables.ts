import type { ColumnType, Generated } from 'kysely';

/** One day's comparison of one service's ledger with the provider's settlement report, in cents. */
export interface PaymentReconciliationTable {
  id: Generated<string>;
  /** The UTC day the provider's report covers, `YYYY-MM-DD`. */
  day: string;
  department_id: string;
  service_id: string;
  ledger_captured: number;
  ledger_refunded: number;
  provider_captured: number;
  provider_refunded: number;
  fees: number;
  differences: number;
  run_at: ColumnType<Date, Date | undefined, Date>;
}

export type DifferenceKind = 'missing_in_ledger' | 'missing_at_provider' | 'amount_mismatch';

export interface PaymentReconciliationDifferenceTable {
  id: Generated<number>;
  reconciliation_id: string;
  kind: DifferenceKind;
  item: 'capture' | 'refund';
  payment_id: string;
  refund_id: string | null;
  ledger_amount: number | null;
  provider_amount: number | null;
}

declare module '../platform/database.ts' {
  interface Database {
    payment_reconciliations: PaymentReconciliationTable;
    payment_reconciliation_differences: PaymentReconciliationDifferenceTable;
  }
}
