import { type Kysely, type Migration, sql } from 'kysely';

/** Custom domains (0027): a service's claims on host names besides its platform name. */
export const domainMigrations: Record<string, Migration> = {
  '0027_custom_domains': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table service_domains (
          id uuid primary key default gen_random_uuid(),
          hostname text not null,
          service_id uuid not null references services(id) on delete cascade,
          department_id uuid not null references departments(id),
          state text not null default 'pending' check (state in ('pending', 'approved', 'rejected')),
          token text not null,
          source text not null check (source in ('api', 'manifest')),
          requested_by text not null,
          requested_at timestamptz not null default now(),
          decided_by text,
          decided_at timestamptz,
          reject_reason text
        )`.execute(db);
      // One host name, one service, across every department: the store enforces it, so that two
      // claims racing each other cannot both win.
      await sql`create unique index service_domains_hostname on service_domains (hostname)`.execute(db);
      await sql`create index service_domains_service on service_domains (service_id)`.execute(db);
      await sql`create index service_domains_state on service_domains (state)`.execute(db);
    },
  },
};
