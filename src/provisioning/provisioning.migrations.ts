import { type Kysely, type Migration, sql } from 'kysely';

/** Provisioning's migrations: hosting requests (name 0011 reserved for this part). */
export const provisioningMigrations: Record<string, Migration> = {
  '0011_provisioning': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table hosting_requests (
          id uuid primary key default gen_random_uuid(),
          department_id uuid not null references departments(id) on delete cascade,
          slug text not null,
          name_en text not null,
          name_zh text not null,
          description text not null default '',
          origin text not null check (origin in ('migrated', 'new')),
          egis_ref text,
          channels text[] not null,
          personalised boolean not null default false,
          sla_tier text not null,
          instances integer not null check (instances between 1 and 100),
          memory_mb integer not null check (memory_mb between 16 and 16384),
          cpu double precision not null check (cpu > 0 and cpu <= 64),
          go_live date not null,
          justification text not null default '',
          environment jsonb not null default '{}',
          state text not null default 'pending'
            check (state in ('pending', 'approved', 'rejected', 'cancelled')),
          reasons jsonb not null default '[]',
          requested_by text not null,
          decided_by text,
          auto_approved boolean not null default false,
          reject_reason text,
          service_id uuid references services(id) on delete set null,
          hostname text,
          submitted_at timestamptz not null default now(),
          approved_at timestamptz,
          rejected_at timestamptz,
          cancelled_at timestamptz,
          lead_time_ms bigint check (lead_time_ms >= 0),
          updated_at timestamptz not null default now(),
          check ((state = 'approved') = (approved_at is not null and lead_time_ms is not null)),
          check ((state = 'rejected') = (rejected_at is not null and reject_reason is not null)),
          check ((state = 'cancelled') = (cancelled_at is not null))
        )`.execute(db);
      // One open request per service name in a department: a second would provision twice.
      await sql`create unique index hosting_requests_one_pending
        on hosting_requests (department_id, slug) where state = 'pending'`.execute(db);
      await sql`create index hosting_requests_by_state on hosting_requests (state, submitted_at)`.execute(db);
      await sql`create index hosting_requests_by_department on hosting_requests (department_id, submitted_at)`.execute(
        db,
      );
    },
  },
};
