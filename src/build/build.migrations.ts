import { type Kysely, type Migration, sql } from 'kysely';

export const buildMigrations: Record<string, Migration> = {
  '0019_droplets': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table droplets (
          sha256 text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
          bundle_sha256 text not null,
          builder text not null,
          runtime_version text not null,
          kind text not null check (kind in ('process', 'static')),
          command text,
          run jsonb not null,
          size_bytes bigint not null,
          staging_seconds double precision not null,
          created_at timestamptz not null default now()
        )`.execute(db);
    },
  },
  // The droplet's archive in the blob store (its folder under the data folder is a host's cache);
  // null for droplets staged before the blob store, whose folder is all there is.
  '0023_droplet_blob': {
    async up(db: Kysely<unknown>) {
      await sql`alter table droplets add column blob_sha256 text`.execute(db);
    },
  },
  // Upload URLs given to staging Jobs (decision 027): each takes one droplet archive, once.
  '0025_staged_uploads': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table staged_uploads (
          id text primary key check (id ~ '^[0-9a-f]{32}$'),
          release_id text not null,
          max_bytes bigint not null,
          used_at timestamptz,
          blob_sha256 text,
          size_bytes bigint,
          run jsonb,
          created_at timestamptz not null default now()
        )`.execute(db);
    },
  },
  // What each staging cost in time, kept apart from droplets (which go when no release names them)
  // so that a past month's staging minutes can be priced again (decision 046). No foreign keys:
  // the row outlives its release and service, as reservation intervals do.
  '0045_staging_usage': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table staging_usage (
          id bigserial primary key,
          release_id text not null,
          service_id text not null,
          department_id text not null,
          outcome text not null check (outcome in ('staged', 'failed')),
          seconds numeric(12, 3) not null check (seconds >= 0),
          started_at timestamptz not null,
          finished_at timestamptz not null
        )`.execute(db);
      await sql`create index staging_usage_by_department on staging_usage (department_id, finished_at)`.execute(
        db,
      );
    },
  },
};
