import { type Kysely, type Migration, sql } from 'kysely';

export const catalogMigrations: Record<string, Migration> = {
  '0002_catalog': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table services (
          id uuid primary key default gen_random_uuid(),
          department_id uuid not null references departments(id),
          slug text not null check (slug ~ '^[a-z][a-z0-9-]{0,38}[a-z0-9]$'),
          name_en text not null,
          name_zh text not null,
          description text not null default '',
          origin text not null check (origin in ('migrated', 'new')),
          egis_ref text,
          channels text[] not null,
          personalised boolean not null default false,
          sla_tier text not null,
          lifecycle text not null default 'planned',
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          unique (department_id, slug)
        )`.execute(db);
    },
  },
};

export const releaseMigrations: Record<string, Migration> = {
  '0004_releases': {
    async up(db: Kysely<unknown>) {
      await sql`alter table services add column instances integer not null default 1 check (instances between 0 and 100)`.execute(
        db,
      );
      await sql`alter table services add column memory_mb integer not null default 256 check (memory_mb between 16 and 16384)`.execute(
        db,
      );
      await sql`alter table services add column current_release_id uuid`.execute(db);
      // Each service's processes run as their own OS user; ids come from one sequence so they never repeat.
      await sql`create sequence service_uid_seq start 20000`.execute(db);
      await sql`alter table services add column run_uid integer not null default nextval('service_uid_seq')`.execute(
        db,
      );
      await sql`
        create table releases (
          id uuid primary key default gen_random_uuid(),
          service_id uuid not null references services(id) on delete cascade,
          version integer not null,
          bundle_sha256 text not null,
          kind text not null check (kind in ('process', 'static')),
          command text,
          manifest jsonb not null,
          env_sealed text not null,
          description text not null,
          status text not null default 'pending',
          failure_reason text,
          created_by text not null,
          created_at timestamptz not null default now(),
          unique (service_id, version)
        )`.execute(db);
      await sql`
        create table service_env (
          service_id uuid not null references services(id) on delete cascade,
          key text not null,
          value text not null,
          secret boolean not null default false,
          updated_at timestamptz not null default now(),
          primary key (service_id, key)
        )`.execute(db);
      await sql`
        create table deployments (
          id uuid primary key default gen_random_uuid(),
          service_id uuid not null references services(id) on delete cascade,
          release_id uuid references releases(id) on delete cascade,
          kind text not null,
          state text not null default 'running' check (state in ('running', 'succeeded', 'failed')),
          message text not null default '',
          created_by text not null,
          started_at timestamptz not null default now(),
          finished_at timestamptz
        )`.execute(db);
      await sql`create index deployments_service_idx on deployments (service_id, started_at)`.execute(db);
    },
  },
};
