import type { ColumnType } from 'kysely';

/** A single-use link back to the service (decision 043): one per payment, spent on first use. */
export interface PaymentReturnLinkTable {
  /** sha256 of the token: the token itself is only in the citizen's browser. */
  token_hash: string;
  payment_id: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  used_at: Date | null;
}

declare module '../platform/database.ts' {
  interface Database {
    payment_return_links: PaymentReturnLinkTable;
  }
}
