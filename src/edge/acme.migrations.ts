import { type Kysely, type Migration, sql } from 'kysely';

/** ACME issuance: the account, the challenges in flight and where each host's certificate stands. */
export const acmeMigrations: Record<string, Migration> = {
  '0028_acme': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table acme_accounts (
          directory_url text primary key,
          email text,
          key_sealed text not null,
          account_url text not null,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table acme_challenges (
          token text primary key,
          key_authorization text not null,
          hostname text not null,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table acme_orders (
          hostname text primary key,
          state text not null check (state in ('pending', 'valid', 'failed')),
          not_after timestamptz,
          issued_at timestamptz,
          last_error text,
          failures integer not null default 0 check (failures >= 0),
          next_attempt_at timestamptz,
          updated_at timestamptz not null
        )`.execute(db);
    },
  },
};
