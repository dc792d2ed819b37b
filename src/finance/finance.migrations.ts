import { type Kysely, type Migration, sql } from 'kysely';

/** Finance (issue 18): business-case scenarios and the rate card (0037); budgets (0042); staging minutes (0045). */
export const financeMigrations: Record<string, Migration> = {
  '0037_finance_scenarios': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table finance_scenarios (
          name text primary key,
          description text not null default '',
          based_on text not null,
          model jsonb not null,
          updated_by text not null,
          updated_at timestamptz not null default now()
        )`.execute(db);
      // A rate holds from its day until the next one of the same resource (decision 038).
      await sql`
        create table finance_rates (
          resource text not null check (resource in ('memory-gb-hour', 'cpu-hour', 'storage-gb-hour')),
          valid_from date not null,
          cents_per_unit numeric(14, 6) not null check (cents_per_unit >= 0),
          note text not null default '',
          created_by text not null,
          created_at timestamptz not null default now(),
          primary key (resource, valid_from)
        )`.execute(db);
      // A closed month keeps each department's statement as it stood; corrections come after
      // as adjustments booked in an open month.
      await sql`
        create table finance_closed_months (
          month text primary key,
          closed_by text not null,
          closed_at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table finance_statements (
          month text not null references finance_closed_months(month),
          department_id uuid not null,
          statement jsonb not null,
          primary key (month, department_id)
        )`.execute(db);
      await sql`
        create table finance_adjustments (
          id bigserial primary key,
          department_id uuid not null,
          month text not null,
          for_month text,
          amount_cents bigint not null check (amount_cents <> 0),
          reason text not null,
          created_by text not null,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index finance_adjustments_by_department on finance_adjustments (department_id, month)`.execute(
        db,
      );
    },
  },
  // Budgets per department and period, the alerts sent at their thresholds, and requests on
  // the rate card (issue 18).
  '0042_finance_budgets': {
    async up(db: Kysely<unknown>) {
      // Requests are metered too (monitoring's per-minute counts), priced per thousand.
      await sql`alter table finance_rates drop constraint finance_rates_resource_check`.execute(db);
      await sql`
        alter table finance_rates add constraint finance_rates_resource_check
          check (resource in ('memory-gb-hour', 'cpu-hour', 'storage-gb-hour', 'request-thousand'))`.execute(
        db,
      );
      await sql`
        create table finance_budgets (
          department_id uuid not null,
          period text not null check (period in ('month', 'year')),
          amount_cents bigint not null check (amount_cents > 0),
          thresholds integer[] not null,
          set_by text not null,
          set_at timestamptz not null default now(),
          primary key (department_id, period)
        )`.execute(db);
      // One row per crossing: the key holds the budget's amount too, so a changed budget is
      // crossed (and told) anew, while the same one is told once a period.
      await sql`
        create table finance_budget_alerts (
          department_id uuid not null,
          period text not null,
          period_key text not null,
          threshold integer not null,
          amount_cents bigint not null,
          spent_cents bigint not null,
          alerted_at timestamptz not null default now(),
          primary key (department_id, period, period_key, threshold, amount_cents)
        )`.execute(db);
    },
  },
  // Staging minutes on the rate card (decision 046): build keeps the time (its 0045_staging_usage).
  '0045_staging_usage_rate': {
    async up(db: Kysely<unknown>) {
      await sql`alter table finance_rates drop constraint finance_rates_resource_check`.execute(db);
      await sql`
        alter table finance_rates add constraint finance_rates_resource_check
          check (resource in ('memory-gb-hour', 'cpu-hour', 'storage-gb-hour', 'request-thousand', 'staging-minute'))`.execute(
        db,
      );
    },
  },
};
