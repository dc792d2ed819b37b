import { type Kysely, type Migration, sql } from 'kysely';

/** The migration programme: waves and the legacy inventory (0033), each item's steps (0034). */
export const migrationMigrations: Record<string, Migration> = {
  '0033_migration_inventory': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table migration_waves (
          id uuid primary key default gen_random_uuid(),
          number integer not null unique check (number > 0),
          name text not null,
          -- Days as YYYY-MM-DD text: read back the same from PGlite and PostgreSQL, no time zone.
          planned_start text not null check (planned_start ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
          planned_end text not null check (planned_end ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
          created_at timestamptz not null default now(),
          check (planned_end >= planned_start)
        )`.execute(db);
      await sql`
        create table migration_items (
          id uuid primary key default gen_random_uuid(),
          department_id uuid not null references departments(id),
          ref text not null,
          name text not null,
          source_platform text not null,
          legacy_url text,
          contacts text[] not null default '{}',
          technology text,
          data_size_gb double precision check (data_size_gb >= 0),
          -- null until the item is assessed.
          complexity text check (complexity in ('low', 'medium', 'high')),
          target_service_id uuid references services(id) on delete set null,
          wave_id uuid references migration_waves(id),
          planned_on text check (planned_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
          state text not null default 'inventoried' check (state in ('inventoried', 'assessed',
            'scheduled', 'migrating', 'parallel-run', 'cut-over', 'decommissioned', 'blocked')),
          blocked_reason text,
          blocked_from text,
          cut_over_at timestamptz,
          state_changed_at timestamptz not null default now(),
          created_at timestamptz not null default now(),
          unique (department_id, ref)
        )`.execute(db);
      await sql`create index migration_items_wave on migration_items (wave_id)`.execute(db);
      await sql`
        create table migration_dependencies (
          item_id uuid not null references migration_items(id) on delete cascade,
          depends_on_id uuid not null references migration_items(id) on delete cascade,
          primary key (item_id, depends_on_id),
          check (item_id <> depends_on_id)
        )`.execute(db);
    },
  },
  '0034_migration_steps': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table migration_steps (
          id uuid primary key default gen_random_uuid(),
          item_id uuid not null references migration_items(id) on delete cascade,
          from_state text,
          to_state text not null,
          reason text,
          by_name text not null,
          at timestamptz not null default now()
        )`.execute(db);
      await sql`create index migration_steps_item on migration_steps (item_id, at)`.execute(db);
    },
  },
};
