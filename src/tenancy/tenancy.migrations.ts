import { type Kysely, type Migration, sql } from 'kysely';

export const tenancyMigrations: Record<string, Migration> = {
  '0001_tenancy': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table departments (
          id uuid primary key default gen_random_uuid(),
          code text not null unique check (code ~ '^[A-Z][A-Z0-9]{1,9}$'),
          name_en text not null,
          name_zh text not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table users (
          id uuid primary key default gen_random_uuid(),
          username text not null unique,
          display_name text not null,
          email text,
          department_id uuid references departments(id),
          role text not null,
          password_hash text,
          disabled boolean not null default false,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          -- department roles belong to a department; platform roles to none
          check ((role like 'dept-%') = (department_id is not null))
        )`.execute(db);
      await sql`create index users_department_idx on users (department_id)`.execute(db);
      await sql`
        create table api_tokens (
          id uuid primary key default gen_random_uuid(),
          user_id uuid not null references users(id),
          name text not null,
          kind text not null check (kind in ('api', 'session')),
          scope text not null check (scope in ('read', 'write')),
          token_hash text not null unique,
          prefix text not null,
          expires_at timestamptz not null,
          revoked_at timestamptz,
          last_used_at timestamptz,
          created_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index api_tokens_user_idx on api_tokens (user_id)`.execute(db);
    },
  },
  // The console's language, kept with the user so that it follows them to any browser; null
  // until they choose one (the console then uses the browser's remembered choice, or English).
  '0012_user_locale': {
    async up(db: Kysely<unknown>) {
      await sql`alter table users add column locale text check (locale in ('en', 'zh-Hant'))`.execute(db);
    },
  },
  // Sign-in throttling (issue 11): failed passwords per user name and per client address.
  '0018_sign_in_throttle': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table sign_in_throttle (
          kind text not null check (kind in ('user', 'address')),
          subject text not null,
          failures integer not null,
          window_started_at timestamptz not null,
          last_failure_at timestamptz not null,
          blocked_until timestamptz,
          locked_until timestamptz,
          primary key (kind, subject)
        )`.execute(db);
      await sql`create index sign_in_throttle_last_failure_idx on sign_in_throttle (last_failure_at)`.execute(
        db,
      );
    },
  },
};
