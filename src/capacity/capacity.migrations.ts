import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Capacity's migrations. Names are reserved by part so work can go on side by side:
 * 0009 farms, reservations, unmet demand, quotas; 0010 demand pipeline and forecast;
 * 0011 hosting requests (provisioning); 0014 storage in reservations, demand and requests, and
 * refused service creations in unmet demand.
 */
export const capacityMigrations: Record<string, Migration> = {
  '0009_capacity': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table farms (
          id uuid primary key default gen_random_uuid(),
          code text not null unique check (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$'),
          name text not null,
          vcpu double precision not null check (vcpu > 0),
          memory_mb integer not null check (memory_mb > 0),
          storage_gb integer not null check (storage_gb >= 0),
          idle_watts double precision not null check (idle_watts >= 0),
          max_watts double precision not null check (max_watts >= idle_watts),
          cost_hkd bigint not null default 0 check (cost_hkd >= 0),
          phase integer not null default 1 check (phase >= 0),
          state text not null check (state in ('planned', 'ordered', 'active', 'retired')),
          ordered_on date,
          active_from date,
          retired_on date,
          cpu_overcommit double precision not null default 1 check (cpu_overcommit between 0.1 and 10),
          memory_overcommit double precision not null default 1 check (memory_overcommit between 0.1 and 10),
          is_local boolean not null default false,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      // At most one farm is the local runtime's host.
      await sql`create unique index farms_one_local on farms (is_local) where is_local`.execute(db);
      await sql`
        create table reservations (
          id uuid primary key default gen_random_uuid(),
          farm_id uuid not null references farms(id),
          service_id uuid not null references services(id) on delete cascade,
          department_id uuid not null references departments(id) on delete cascade,
          slot integer not null check (slot >= 0),
          memory_mb integer not null check (memory_mb > 0),
          cpu double precision not null check (cpu > 0),
          created_at timestamptz not null default now(),
          unique (service_id, slot)
        )`.execute(db);
      await sql`create index reservations_by_farm on reservations (farm_id)`.execute(db);
      await sql`create index reservations_by_department on reservations (department_id)`.execute(db);
      await sql`
        create table unmet_demand (
          id uuid primary key default gen_random_uuid(),
          department_id uuid not null references departments(id) on delete cascade,
          service_id uuid references services(id) on delete set null,
          service_key text not null,
          instances integer not null,
          memory_mb integer not null,
          cpu double precision not null,
          reason text not null,
          at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table department_quotas (
          department_id uuid primary key references departments(id) on delete cascade,
          memory_mb integer not null check (memory_mb >= 0),
          instances integer not null check (instances >= 0),
          services integer not null check (services >= 0),
          updated_at timestamptz not null default now()
        )`.execute(db);
    },
  },
  '0014_capacity_leftovers': {
    async up(db: Kysely<unknown>) {
      // Storage per instance slot (the manifest's disk_quota, or a hosting request's expected
      // disk), held on the farm's storage like memory and CPU. Existing rows held none.
      await sql`alter table reservations add column storage_mb integer not null default 0 check (storage_mb >= 0)`.execute(
        db,
      );
      await sql`alter table unmet_demand add column storage_mb integer not null default 0`.execute(db);
      // A refused service creation asks for a service, not for instances.
      await sql`alter table unmet_demand add column services integer not null default 0`.execute(db);
      await sql`alter table planned_demand add column storage_mb_per_instance integer not null default 0
        check (storage_mb_per_instance >= 0)`.execute(db);
      await sql`alter table hosting_requests add column storage_mb integer not null default 0
        check (storage_mb between 0 and 1048576)`.execute(db);
    },
  },
  /**
   * What each service reserved, and from when to when (issue 18): reservations hold only the
   * present, so a trigger keeps their history, whichever path changes them (admission, settling,
   * reconciling). A change closes the service's open interval and opens one with its new totals;
   * several changes in one transaction leave one interval. Chargeback prices the past from it.
   */
  '0039_reservation_intervals': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table reservation_intervals (
          id bigserial primary key,
          service_id uuid not null,
          department_id uuid not null,
          instances integer not null,
          memory_mb double precision not null,
          cpu double precision not null,
          storage_mb double precision not null,
          valid_from timestamptz not null,
          valid_to timestamptz,
          check (valid_to is null or valid_to > valid_from)
        )`.execute(db);
      await sql`create index reservation_intervals_by_department on reservation_intervals (department_id, valid_from)`.execute(
        db,
      );
      await sql`create unique index reservation_intervals_open on reservation_intervals (service_id) where valid_to is null`.execute(
        db,
      );
      await sql`
        create function record_reservation_interval() returns trigger language plpgsql as $$
        declare
          sid uuid := coalesce(new.service_id, old.service_id);
          did uuid := coalesce(new.department_id, old.department_id);
        begin
          delete from reservation_intervals where service_id = sid and valid_to is null and valid_from = now();
          update reservation_intervals set valid_to = now() where service_id = sid and valid_to is null;
          insert into reservation_intervals (service_id, department_id, instances, memory_mb, cpu, storage_mb, valid_from)
            select sid, did, count(*), sum(memory_mb), sum(cpu), sum(storage_mb), now()
            from reservations where service_id = sid having count(*) > 0;
          return null;
        end $$`.execute(db);
      await sql`
        create trigger reservations_history after insert or update or delete on reservations
        for each row execute function record_reservation_interval()`.execute(db);
      // What is reserved already has no known start: from the migration on.
      await sql`
        insert into reservation_intervals (service_id, department_id, instances, memory_mb, cpu, storage_mb, valid_from)
        select service_id, min(department_id::text)::uuid, count(*), sum(memory_mb), sum(cpu), sum(storage_mb), now()
        from reservations group by service_id`.execute(db);
    },
  },
};
