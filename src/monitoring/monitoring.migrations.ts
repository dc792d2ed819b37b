import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Monitoring's migrations. Names are reserved by part so work on them can go on side by side:
 * 0005 outages (shared), 0006 metrics roll-ups, 0007 alerting and incidents, 0008 status and SLA.
 */
export const outageMigrations: Record<string, Migration> = {
  '0005_service_outages': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table service_outages (
          id uuid primary key default gen_random_uuid(),
          service_id uuid not null references services(id) on delete cascade,
          started_at timestamptz not null,
          ended_at timestamptz,
          cause text not null default '',
          created_at timestamptz not null default now(),
          check (ended_at is null or ended_at >= started_at)
        )`.execute(db);
      await sql`create index service_outages_by_service on service_outages (service_id, started_at)`.execute(
        db,
      );
      // At most one open outage per service.
      await sql`create unique index service_outages_one_open on service_outages (service_id) where ended_at is null`.execute(
        db,
      );
    },
  },
};

/** Status page and SLA: maintenance notices (0008). */
export const statusMigrations: Record<string, Migration> = {
  '0008_status_sla': {
    async up(db: Kysely<unknown>) {
      // A notice with no service is platform-wide; a service's notice carries its department so
      // that department users can be given theirs without a join.
      await sql`
        create table maintenance_notices (
          id uuid primary key default gen_random_uuid(),
          service_id uuid references services(id) on delete cascade,
          department_id uuid references departments(id) on delete cascade,
          title text not null,
          message text not null default '',
          starts_at timestamptz not null,
          ends_at timestamptz not null,
          created_by text not null,
          created_at timestamptz not null default now(),
          cancelled_at timestamptz,
          check (ends_at > starts_at),
          check ((service_id is null) = (department_id is null))
        )`.execute(db);
      await sql`create index maintenance_notices_by_time on maintenance_notices (ends_at, starts_at)`.execute(
        db,
      );
      await sql`create index maintenance_notices_by_service on maintenance_notices (service_id, starts_at)`.execute(
        db,
      );
    },
  },
};
