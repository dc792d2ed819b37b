import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The hosted payment page (decision 043): the single-use links that send a citizen back to the
 * service, and an index for the expiry job's look-up of unpaid payments.
 */
export const hostedPaymentMigrations: Record<string, Migration> = {
  '0043_payment_hosted_page': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table payment_return_links (
          token_hash text primary key,
          payment_id uuid not null unique references payments(id),
          created_at timestamptz not null default now(),
          used_at timestamptz
        )`.execute(db);
      await sql`
        create index payments_unpaid on payments (created_at)
        where state in ('created', 'started')`.execute(db);
    },
  },
};
