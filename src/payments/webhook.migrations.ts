import { type Kysely, type Migration, sql } from 'kysely';

/** Payment webhooks (decision 047): each service's webhook URL and sealed signing secret. */
export const paymentWebhookMigrations: Record<string, Migration> = {
  '0046_payment_webhooks': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table payment_webhooks (
          service_id uuid primary key references services(id) on delete cascade,
          department_id uuid not null references departments(id),
          url text not null,
          secret_sealed text not null,
          updated_by text not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
    },
  },
};
