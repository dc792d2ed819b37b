import { type Kysely, type Migration, sql } from 'kysely';

export const catalogMigrations: Record<string, Migration> = {
  '0002_catalog': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table services (
          id uuid primary key default gen_random_uuid(),
          department_id uuid not null references departments(id),
          slug text not null check (slug ~ '^[a-z][a-z0-9-]{0,38}[a-z0-9]$'),
          name_en text not null,
          name_zh text not null,
          description text not null default '',
          origin text not null check (origin in ('migrated', 'new')),
          egis_ref text,
          channels text[] not null,
          personalised boolean not null default false,
          sla_tier text not null,
          lifecycle text not null default 'planned',
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          unique (department_id, slug)
        )`.execute(db);
    },
  },
};
