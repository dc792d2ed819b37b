import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { PaymentRow } from './payment.repository.ts';
import type { KeyMode, Language } from './payments.tables.ts';

export interface NewPaymentRow {
  department_id: string;
  service_id: string;
  mode: KeyMode;
  amount: number;
  reference: string;
  description: string;
  return_url: string;
  metadata: Record<string, string | number | boolean>;
  language: Language;
}

/**
 * Claims the idempotency key and writes the payment and its `created` event, in one statement:
 * one round trip instead of a transaction of five (docs/benchmarks.md, "Payments"). The payment
 * and its event are written only from the claim's row, so a key claimed before (or by a request
 * racing this one, which waits on the key's unique index until that one ends) writes nothing and
 * gives undefined; the caller then answers with what the key made. One statement is atomic: the
 * claim, the payment and its event commit together or not at all, as decision 040 asks.
 */
export async function insertClaimed(
  db: Executor,
  row: NewPaymentRow,
  claim: { key: string; requestHash: string },
): Promise<PaymentRow | undefined> {
  // The id is made here so that the claim, written first, can name it; the claim's foreign key
  // to the payment is checked at the end of the statement, once the payment is written.
  const id = randomUUID();
  const r = await sql<PaymentRow>`
    with claim as (
      insert into payment_idempotency (service_id, mode, key, request_hash, payment_id)
      values (${row.service_id}::uuid, ${row.mode}, ${claim.key}, ${claim.requestHash}, ${id}::uuid)
      on conflict do nothing
      returning payment_id
    ), payment as (
      insert into payments (id, department_id, service_id, mode, amount, currency, reference,
        description, return_url, metadata, language, state)
      select payment_id, ${row.department_id}::uuid, ${row.service_id}::uuid, ${row.mode}, ${row.amount}::bigint, 'HKD',
        ${row.reference}, ${row.description}, ${row.return_url}, ${JSON.stringify(row.metadata)}::jsonb,
        ${row.language}, 'created'
      from claim
      returning id, department_id, service_id, mode, amount, currency, reference, description,
        return_url, metadata, language, state, provider_ref, refunded, created_at, updated_at
    ), event as (
      insert into payment_events (payment_id, from_state, to_state, reason)
      select id, null, 'created', 'service_created' from payment
    )
    select * from payment`.execute(db);
  return r.rows[0];
}
