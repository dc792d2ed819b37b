import { type Kysely, type Migration, sql } from 'kysely';

/** Finance (issue 18): business-case scenarios (0037). */
export const financeMigrations: Record<string, Migration> = {
  '0037_finance_scenarios': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table finance_scenarios (
          name text primary key,
          description text not null default '',
          based_on text not null,
          model jsonb not null,
          updated_by text not null,
          updated_at timestamptz not null default now()
        )`.execute(db);
    },
  },
};
