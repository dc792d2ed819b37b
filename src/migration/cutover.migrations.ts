import { type Kysely, type Migration, sql } from 'kysely';

/** Cut-over in the router (0032): a service's legacy upstream and the share it keeps. */
export const cutoverMigrations: Record<string, Migration> = {
  '0032_service_cutovers': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table service_cutovers (
          service_id uuid primary key references services(id) on delete cascade,
          department_id uuid not null references departments(id),
          legacy_url text not null,
          legacy_host text,
          legacy_ca text,
          percent integer not null check (percent between 0 and 100),
          new_paths text[] not null default '{}',
          sticky boolean not null default false,
          fallback_error_rate double precision check (fallback_error_rate > 0 and fallback_error_rate <= 100),
          updated_by text not null,
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index service_cutovers_department on service_cutovers (department_id)`.execute(db);
    },
  },
};
