import { type Kysely, type Migration, sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import { rechainUnderKey } from './audit.rechain.ts';

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
  // The chain becomes an HMAC under a key kept outside the database (decision 014). This calls
  // today's code on purpose: the chain's rows have kept the shape 0003 gave them.
  '0017_audit_keyed_chain': {
    async up(db: Kysely<unknown>) {
      await rechainUnderKey(db as unknown as Executor);
    },
  },
};
