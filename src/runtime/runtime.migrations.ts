import { type Kysely, type Migration, sql } from 'kysely';

/** The runtime's migrations: live state for every replica, the work queue's options (0022). */
export const runtimeMigrations: Record<string, Migration> = {
  '0022_runtime_live_state': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table runtime_instances (
          instance_id text primary key,
          service_id uuid not null references services(id) on delete cascade,
          status jsonb not null,
          serving boolean not null
        )`.execute(db);
      await sql`create index runtime_instances_service on runtime_instances (service_id)`.execute(db);
      await sql`
        create table runtime_services (
          service_id uuid primary key references services(id) on delete cascade,
          run_as jsonb,
          failed_instance text
        )`.execute(db);
      await sql`
        create table runtime_state (
          name text primary key,
          value jsonb not null,
          updated_at timestamptz not null default now()
        )`.execute(db);
      // A deployment row is the queue's item: what the replica that took the request knew and the
      // lease holder needs to run it. Columns with defaults, so the previous release's code,
      // which does not write them, still works beside this one (expand, see decision 022).
      await sql`alter table deployments add column replace_all boolean not null default false`.execute(db);
      await sql`alter table deployments add column no_cache boolean not null default false`.execute(db);
    },
  },
};
