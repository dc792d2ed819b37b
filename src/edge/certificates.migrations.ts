import { type Kysely, type Migration, sql } from 'kysely';

/** The edge's certificate store and per-service HTTPS settings (decision 031). */
export const certificateMigrations: Record<string, Migration> = {
  '0030_certificates': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table certificates (
          id uuid primary key default gen_random_uuid(),
          names text[] not null check (cardinality(names) > 0),
          subject text not null,
          issuer text not null,
          not_before timestamptz not null,
          not_after timestamptz not null,
          fingerprint text not null unique check (fingerprint ~ '^[0-9a-f]{64}$'),
          key_type text not null,
          chain_pem text not null,
          key_sealed text not null check (key_sealed like 'v1:%'),
          source text not null check (source in ('uploaded', 'acme')),
          created_by text not null,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index certificates_not_after on certificates (not_after)`.execute(db);
      // Keyed by the service, not part of catalog's tables: the edge owns its settings.
      await sql`
        create table service_https (
          service_id uuid primary key references services(id) on delete cascade,
          https_redirect boolean not null default true,
          hsts boolean not null default true,
          updated_at timestamptz not null default now()
        )`.execute(db);
    },
  },
};
