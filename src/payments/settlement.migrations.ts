import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Settlement and the daily reconciliation (issue 19): settlement postings in the ledger (at most
 * one per captured payment and one per refund), and each day's comparison of the ledger with the
 * provider's settlement report, per service, with every difference it found.
 */
export const settlementMigrations: Record<string, Migration> = {
  '0044_payment_settlement': {
    async up(db: Kysely<unknown>) {
      await sql`alter table ledger_postings drop constraint ledger_postings_kind_check`.execute(db);
      await sql`alter table ledger_postings add constraint ledger_postings_kind_check
        check (kind in ('capture', 'refund', 'fee', 'settlement'))`.execute(db);
      // A capture or a refund is settled once, however often its day is reconciled.
      await sql`create unique index ledger_postings_settled
        on ledger_postings (payment_id, coalesce(refund_id, payment_id)) where kind = 'settlement'`.execute(
        db,
      );
      await sql`create index ledger_postings_day on ledger_postings (at) where kind in ('capture', 'refund')`.execute(
        db,
      );
      await sql`
        create table payment_reconciliations (
          id uuid primary key default gen_random_uuid(),
          day text not null check (day ~ '^\\d{4}-\\d{2}-\\d{2}$'),
          department_id uuid not null references departments(id),
          service_id uuid not null references services(id),
          ledger_captured bigint not null,
          ledger_refunded bigint not null,
          provider_captured bigint not null,
          provider_refunded bigint not null,
          fees bigint not null,
          differences integer not null,
          run_at timestamptz not null default now(),
          unique (day, service_id)
        )`.execute(db);
      await sql`create index payment_reconciliations_department on payment_reconciliations (department_id, day)`.execute(
        db,
      );
      await sql`
        create table payment_reconciliation_differences (
          id bigserial primary key,
          reconciliation_id uuid not null references payment_reconciliations(id) on delete cascade,
          kind text not null check (kind in ('missing_in_ledger', 'missing_at_provider', 'amount_mismatch')),
          item text not null check (item in ('capture', 'refund')),
          payment_id uuid not null,
          refund_id uuid,
          ledger_amount bigint,
          provider_amount bigint
        )`.execute(db);
      await sql`create index payment_reconciliation_differences_of
        on payment_reconciliation_differences (reconciliation_id)`.execute(db);
    },
  },
};
