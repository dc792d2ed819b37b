import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { KeyMode } from './payments.tables.ts';

export interface IdempotencyScope {
  serviceId: string;
  mode: KeyMode;
  key: string;
}
interface Made {
  paymentId: string;
  refundId: string | null;
}

/** The fingerprint of a request: the operation and its body, with keys in canonical order. */
export const requestHash = (operation: string, body: unknown) =>
  createHash('sha256')
    .update(`${operation}\n${canonicalize(body ?? null)}`)
    .digest('hex');

class LostRace extends Error {}

const find = (db: Executor, s: IdempotencyScope) =>
  db
    .selectFrom('payment_idempotency')
    .select(['request_hash', 'payment_id', 'refund_id'])
    .where('service_id', '=', s.serviceId)
    .where('mode', '=', s.mode)
    .where('key', '=', s.key)
    .executeTakeFirst();

function replay(row: { request_hash: string; payment_id: string; refund_id: string | null }, hash: string) {
  if (row.request_hash !== hash)
    throw new DomainError(
      'GOVHOST_IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was used for another request',
    );
  return { made: { paymentId: row.payment_id, refundId: row.refund_id }, replayed: true };
}

/**
 * What an idempotency key made, for a request that found it claimed (its own claim wrote
 * nothing): that result for the same body, 409 for another.
 */
export async function madeBefore(db: Executor, scope: IdempotencyScope, hash: string) {
  const seen = await find(db, scope);
  if (!seen) throw new Error('an idempotency key was claimed but no claim is stored');
  return replay(seen, hash);
}

/**
 * Runs `make` once per idempotency key (decision 040). `make` and the key's claim commit in one
 * transaction; a concurrent request with the same key waits on the claim's unique index, finds it
 * taken, rolls its own work back and answers with the first one's result (or 409 for another body).
 */
export async function once(
  db: Db,
  scope: IdempotencyScope,
  hash: string,
  make: (trx: Executor) => Promise<Made>,
): Promise<{ made: Made; replayed: boolean }> {
  const seen = await find(db, scope);
  if (seen) return replay(seen, hash);
  try {
    return await db.transaction().execute(async (trx) => {
      const made = await make(trx);
      const claimed = await trx
        .insertInto('payment_idempotency')
        .values({
          service_id: scope.serviceId,
          mode: scope.mode,
          key: scope.key,
          request_hash: hash,
          payment_id: made.paymentId,
          refund_id: made.refundId,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('key')
        .executeTakeFirst();
      if (!claimed) throw new LostRace();
      return { made, replayed: false };
    });
  } catch (err) {
    if (!(err instanceof LostRace)) throw err;
  }
  const won = await find(db, scope);
  if (!won) throw new Error('an idempotency key lost its race but no winner is stored');
  return replay(won, hash);
}
