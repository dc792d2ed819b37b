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
