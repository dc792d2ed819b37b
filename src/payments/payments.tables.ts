import type { ColumnType, Generated } from 'kysely';
import type { LedgerAccount } from './ledger.ts';
import type { PaymentState } from './states.ts';

export type KeyMode = 'test' | 'live';
export type Language = 'en' | 'zh-Hant';

/** A hosted service's credential for the payments API (decision 040): one service, one mode. */
export interface PaymentKeyTable {
  id: Generated<string>;
  department_id: string;
  service_id: string;
  mode: KeyMode;
  name: string;
  /** sha256 of the secret, as API tokens are stored: the secret itself is shown once. */
  key_hash: string;
  prefix: string;
  created_by: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  revoked_at: Date | null;
}

export interface PaymentTable {
  id: Generated<string>;
  department_id: string;
  service_id: string;
  mode: KeyMode;
  /** HK cents: integers only, so that no sum is ever rounded. */
  amount: number;
  currency: 'HKD';
  reference: string;
  description: string;
  return_url: string;
  metadata: ColumnType<Record<string, string | number | boolean>, string, string>;
  language: Language;
  state: PaymentState;
  /** The provider's own id of the payment, once the citizen reached its page. */
  provider_ref: ColumnType<string | null, string | null | undefined, string | null>;
  /** Sum of refunds that succeeded or are in flight: never above `amount` (a check constraint). */
  refunded: Generated<number>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** Every transition a payment took, with its reason code: the payment's history. */
export interface PaymentEventTable {
  id: Generated<number>;
  payment_id: string;
  from_state: PaymentState | null;
  to_state: PaymentState;
  reason: string;
  at: ColumnType<Date, Date | undefined, never>;
}

export interface PaymentRefundTable {
  id: Generated<string>;
  payment_id: string;
  department_id: string;
  amount: number;
  state: 'submitted' | 'success' | 'error';
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** One balanced posting: its entries sum to zero (checked before commit, ledger.ts). */
export interface LedgerPostingTable {
  id: Generated<string>;
  department_id: string;
  service_id: string;
  payment_id: string;
  refund_id: string | null;
  kind: 'capture' | 'refund' | 'fee' | 'settlement';
  at: ColumnType<Date, Date | undefined, never>;
}

export interface LedgerEntryTable {
  id: Generated<number>;
  posting_id: string;
  account: LedgerAccount;
  /** HK cents, debit positive, credit negative. */
  amount: number;
}

/** A call to the provider, written (state `pending`) before it is made: nothing goes out unrecorded. */
export interface ProviderCallTable {
  id: Generated<string>;
  payment_id: string;
  refund_id: string | null;
  operation: 'authorise' | 'refund' | 'cancel' | 'status';
  state: 'pending' | 'done' | 'failed';
  outcome: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  finished_at: Date | null;
}

/** What an `Idempotency-Key` was first used for, per service and mode. */
export interface PaymentIdempotencyTable {
  service_id: string;
  mode: KeyMode;
  key: string;
  /** sha256 of the operation and body: the same key with another request is a 409. */
  request_hash: string;
  payment_id: string;
  refund_id: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface PaymentTables {
  payment_keys: PaymentKeyTable;
  payments: PaymentTable;
  payment_events: PaymentEventTable;
  payment_refunds: PaymentRefundTable;
  ledger_postings: LedgerPostingTable;
  ledger_entries: LedgerEntryTable;
  provider_calls: ProviderCallTable;
  payment_idempotency: PaymentIdempotencyTable;
}

declare module '../platform/database.ts' {
  interface Database extends PaymentTables {}
}
