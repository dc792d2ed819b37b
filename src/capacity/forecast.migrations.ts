import { type Kysely, type Migration, sql } from 'kysely';

/** The demand pipeline that the expansion forecast reads (name reserved in capacity.migrations.ts). */
export const forecastMigrations: Record<string, Migration> = {
  '0010_demand_forecast': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table planned_demand (
          id uuid primary key default gen_random_uuid(),
          kind text not null check (kind in ('hosting-request', 'migration-wave', 'growth')),
          department_id uuid references departments(id) on delete cascade,
          services integer not null check (services >= 0),
          instances_per_service integer not null check (instances_per_service >= 0),
          memory_mb_per_instance integer not null check (memory_mb_per_instance >= 0),
          cpu_per_instance double precision not null check (cpu_per_instance >= 0),
          growth_pct_per_month double precision
            check (growth_pct_per_month is null or growth_pct_per_month between -100 and 1000),
          go_live text not null check (go_live ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
          scenario text check (scenario is null or length(scenario) between 1 and 60),
          note text not null default '',
          source_id text unique,
          created_at timestamptz not null default now(),
          -- A growth line grows what exists; the others bring new slots.
          check ((kind = 'growth') = (growth_pct_per_month is not null))
        )`.execute(db);
      await sql`create index planned_demand_by_month on planned_demand (go_live)`.execute(db);
    },
  },
  /**
   * A planned line's SLA tier (issue 18): a gold service is spread over two farms, alone or
   * shared, so the savings of sharing need it. Null for lines that name none (no spread).
   */
  '0038_demand_tier': {
    async up(db: Kysely<unknown>) {
      await sql`alter table planned_demand add column sla_tier text
        check (sla_tier in ('gold', 'silver', 'bronze'))`.execute(db);
    },
  },
};
