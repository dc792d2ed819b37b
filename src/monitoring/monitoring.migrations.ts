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

/** Per-minute roll-ups of probes, router traffic and instance samples (see rollup.ts). */
export const metricsMigrations: Record<string, Migration> = {
  '0006_metrics_rollups': {
    async up(db: Kysely<unknown>) {
      // No unique key on (service, minute): a minute cut by a restart is written twice, in two
      // parts, and every query adds the rows of a minute up.
      await sql`
        create table service_minutes (
          service_id uuid not null references services(id) on delete cascade,
          minute timestamptz not null,
          probes_total integer not null,
          probes_failed integer not null,
          probe_ms_sum double precision not null,
          req_1xx bigint not null,
          req_2xx bigint not null,
          req_3xx bigint not null,
          req_4xx bigint not null,
          req_5xx bigint not null,
          latency_buckets bigint[] not null,
          latency_ms_sum double precision not null,
          instances_total integer not null,
          instances_healthy integer not null
        )`.execute(db);
      await sql`create index service_minutes_by_service on service_minutes (service_id, minute)`.execute(db);
      await sql`create index service_minutes_by_minute on service_minutes (minute)`.execute(db);
      await sql`
        create table instance_minutes (
          service_id uuid not null references services(id) on delete cascade,
          instance_id text not null,
          minute timestamptz not null,
          cpu_seconds double precision not null,
          memory_max_bytes bigint,
          memory_limit_bytes bigint not null,
          restarts integer not null,
          state text not null
        )`.execute(db);
      await sql`create index instance_minutes_by_service on instance_minutes (service_id, minute)`.execute(
        db,
      );
      await sql`create index instance_minutes_by_minute on instance_minutes (minute)`.execute(db);
    },
  },
};
