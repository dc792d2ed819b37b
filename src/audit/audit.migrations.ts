import { type Kysely, type Migration, sql } from 'kysely';

export const auditMigrations: Record<string, Migration> = {
  '0003_audit': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table audit_log (
          seq bigint generated always as identity primary key,
          at timestamptz not null,
          actor_id uuid,
          actor_name text not null,
          department_id uuid,
          action text not null,
          target_type text not null,
          target_id text not null,
          before jsonb,
          after jsonb,
          request_id text,
          prev_hash text not null,
          hash text not null
        )`.execute(db);
      await sql`create index audit_log_department_idx on audit_log (department_id, seq)`.execute(db);
      // The newest link, kept apart so that deleting the last records of the log is detected too.
      await sql`
        create table audit_head (
          id boolean primary key default true check (id),
          seq bigint not null,
          hash text not null
        )`.execute(db);
    },
  },
};
