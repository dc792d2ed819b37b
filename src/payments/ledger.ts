import type { Executor } from '../platform/database.ts';
import * as repo from './ledger.repository.ts';

/**
 * The ledger's accounts (decision 040), amounts in HK cents, debit positive:
 * - `provider_clearing`: money the provider holds for the platform (captured, not yet settled);
 * - `service_receivable`: what the platform owes the department's service (a credit balance);
 * - `refunds`: money given back to citizens;
 * - `fees`: the provider's charges;
 * - `bank`: what the provider has paid out to the platform's account (its settlements).
 */
export const LEDGER_ACCOUNTS = [
  'provider_clearing',
  'service_receivable',
  'refunds',
  'fees',
  'bank',
] as const;
export type LedgerAccount = (typeof LEDGER_ACCOUNTS)[number];

export interface Entry {
  account: LedgerAccount;
  amount: number;
}

export interface Posting {
  departmentId: string;
  serviceId: string;
  paymentId: string;
  refundId?: string | null;
  kind: 'capture' | 'refund' | 'fee' | 'settlement';
  entries: Entry[];
}

/** The entries of a capture of `amount` cents: the provider holds it, the service is owed it. */
export const captureEntries = (amount: number): Entry[] => [
  { account: 'provider_clearing', amount },
  { account: 'service_receivable', amount: -amount },
];

/** The entries of a refund: it comes out of what the provider holds, as a refund. */
export const refundEntries = (amount: number): Entry[] => [
  { account: 'refunds', amount },
  { account: 'provider_clearing', amount: -amount },
];

/**
 * The entries of settling a capture: the provider pays it out less its fee, and keeps the fee.
 * The fee entry is left out when the provider charged nothing (no entry is zero).
 */
export const captureSettlementEntries = (amount: number, fee: number): Entry[] => [
  { account: 'bank', amount: amount - fee },
  ...(fee > 0 ? [{ account: 'fees' as const, amount: fee }] : []),
  { account: 'provider_clearing', amount: -amount },
];

/** The entries of settling a refund: the provider takes it out of its payout. */
export const refundSettlementEntries = (amount: number): Entry[] => [
  { account: 'provider_clearing', amount },
  { account: 'bank', amount: -amount },
];

/**
 * Writes a posting in the caller's transaction, after checking that it balances: entries are
 * whole cents, none is zero, and they sum to zero. An unbalanced posting is a bug, never input.
 */
export async function post(trx: Executor, posting: Posting): Promise<string> {
  const sum = posting.entries.reduce((s, e) => s + e.amount, 0);
  if (
    posting.entries.length < 2 ||
    sum !== 0 ||
    posting.entries.some((e) => !Number.isSafeInteger(e.amount) || e.amount === 0)
  )
    throw new Error(`an unbalanced ledger posting (${posting.kind}, sum ${sum}) was refused`);
  return repo.insertPosting(trx, posting);
}

/** Balance per account, optionally for one payment; every posting balancing means these sum to zero. */
export const balances = (db: Executor, filter: { paymentId?: string; departmentId?: string } = {}) =>
  repo.balances(db, filter);
