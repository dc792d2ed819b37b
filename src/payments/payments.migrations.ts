import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The shared payment service (decision 040): keys, payments with their events, refunds, the
 * double-entry ledger, provider calls and idempotency keys. Money is integer HK cents (bigint).
 */
export const paymentMigrations: Record<string, Migration> = {
  '0040_payments': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table payment_keys (
          id uuid primary key default gen_random_uuid(),
          department_id uuid not null references departments(id),
          service_id uuid not null references services(id) on delete cascade,
          mode text not null check (mode in ('test', 'live')),
          name text not null,
          key_hash text not null unique,
          prefix text not null,
          created_by text not null,
          created_at timestamptz not null default now(),
          revoked_at timestamptz
        )`.execute(db);
      await sql`create index payment_keys_service on payment_keys (service_id)`.execute(db);
      await sql`
        create table payments (
          id uuid primary key default gen_random_uuid(),
          department_id uuid not null references departments(id),
          service_id uuid not null references services(id),
          mode text not null check (mode in ('test', 'live')),
          amount bigint not null check (amount > 0 and amount <= 10000000000),
          currency text not null default 'HKD' check (currency = 'HKD'),
          reference text not null,
          description text not null,
          return_url text not null,
          metadata jsonb not null default '{}',
          language text not null check (language in ('en', 'zh-Hant')),
          state text not null,
          provider_ref text,
          refunded bigint not null default 0 check (refunded >= 0 and refunded <= amount),
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index payments_service on payments (service_id, mode, created_at desc)`.execute(db);
      await sql`create index payments_department on payments (department_id, created_at desc)`.execute(db);
      await sql`create index payments_reference on payments (service_id, reference)`.execute(db);
      await sql`
        create table payment_events (
          id bigserial primary key,
          payment_id uuid not null references payments(id),
          from_state text,
          to_state text not null,
          reason text not null,
          at timestamptz not null default now()
        )`.execute(db);
      await sql`create index payment_events_payment on payment_events (payment_id, id)`.execute(db);
      await sql`
        create table payment_refunds (
          id uuid primary key default gen_random_uuid(),
          payment_id uuid not null references payments(id),
          department_id uuid not null references departments(id),
          amount bigint not null check (amount > 0),
          state text not null check (state in ('submitted', 'success', 'error')),
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index payment_refunds_payment on payment_refunds (payment_id)`.execute(db);
      await sql`
        create table ledger_postings (
          id uuid primary key default gen_random_uuid(),
          department_id uuid not null references departments(id),
          service_id uuid not null references services(id),
          payment_id uuid not null references payments(id),
          refund_id uuid references payment_refunds(id),
          kind text not null check (kind in ('capture', 'refund', 'fee')),
          at timestamptz not null default now()
        )`.execute(db);
      await sql`create index ledger_postings_payment on ledger_postings (payment_id)`.execute(db);
      await sql`create index ledger_postings_department on ledger_postings (department_id, at)`.execute(db);
      await sql`
        create table ledger_entries (
          id bigserial primary key,
          posting_id uuid not null references ledger_postings(id),
          account text not null,
          amount bigint not null check (amount <> 0)
        )`.execute(db);
      await sql`create index ledger_entries_posting on ledger_entries (posting_id)`.execute(db);
      await sql`
        create table provider_calls (
          id uuid primary key default gen_random_uuid(),
          payment_id uuid not null references payments(id),
          refund_id uuid references payment_refunds(id),
          operation text not null,
          state text not null check (state in ('pending', 'done', 'failed')),
          outcome text,
          created_at timestamptz not null default now(),
          finished_at timestamptz
        )`.execute(db);
      await sql`create index provider_calls_pending on provider_calls (state) where state = 'pending'`.execute(
        db,
      );
      await sql`
        create table payment_idempotency (
          service_id uuid not null references services(id) on delete cascade,
          mode text not null,
          key text not null,
          request_hash text not null,
          payment_id uuid not null references payments(id),
          refund_id uuid references payment_refunds(id),
          created_at timestamptz not null default now(),
          primary key (service_id, mode, key)
        )`.execute(db);
    },
  },
};
