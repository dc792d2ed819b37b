import { type Kysely, type Migration, sql } from 'kysely';

/** The cluster's migrations: leases and the shared keys' fingerprints (name 0021 reserved for this part). */
export const clusterMigrations: Record<string, Migration> = {
  '0021_leases': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table leases (
          name text primary key,
          holder text not null,
          generation bigint not null,
          expires_at timestamptz not null,
          acquired_at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table cluster_keys (
          name text primary key,
          fingerprint text not null
        )`.execute(db);
    },
  },
};
