import { type Kysely, type Migration, sql } from 'kysely';

export const blobMigrations: Record<string, Migration> = {
  '0023_blobs': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table blob_chunks (
          upload_id uuid not null,
          n integer not null check (n >= 0),
          data bytea not null,
          created_at timestamptz not null default now(),
          primary key (upload_id, n)
        )`.execute(db);
      await sql`
        create table blobs (
          kind text not null check (kind in ('bundle', 'droplet')),
          sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
          upload_id uuid not null unique,
          size_bytes bigint not null,
          chunks integer not null,
          created_at timestamptz not null default now(),
          primary key (kind, sha256)
        )`.execute(db);
    },
  },
};
