import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { moveAlong, type Payment } from './payment.logic.ts';
import type { PaymentRow, PaymentScope } from './payment.repository.ts';
import * as repo from './payment.repository.ts';
import { type PaymentProvider, type ProviderOutcome, ProviderUnavailable } from './provider.ts';
import * as calls from './refund.repository.ts';
import type { PaymentState } from './states.ts';

/**
 * Sends a `created` payment to the provider and moves it to `started`: the call is recorded
 * (pending) before it is made; a retried start asks the provider again with the same payment id,
 * which gives the same page. Returns where to send the citizen.
 */
export async function startAtProvider(
  db: Db,
  provider: PaymentProvider,
  scope: PaymentScope,
  id: string,
  /** Where the provider sends the citizen back: the payment host's own page (decision 043). */
  returnUrl?: string,
  /** The payment as the caller has just read it in `scope`, so that it is not read twice. */
  read?: PaymentRow,
) {
  const row = read ?? (await repo.findById(db, scope, id));
  if (!row) throw new DomainError('GOVHOST_PAYMENT_NOT_FOUND', `no payment ${id}`);
  if (row.state !== 'created' && row.state !== 'started')
    throw new DomainError('GOVHOST_PAYMENT_TRANSITION', `a ${row.state} payment cannot be paid`, {
      allowed: [],
    });
  const callId = await calls.recordCall(db, { payment_id: id, refund_id: null, operation: 'authorise' });
  let opened: { providerRef: string; redirectUrl: string };
  try {
    opened = await provider.start({
      paymentId: id,
      amount: Number(row.amount),
      description: row.description,
      language: row.language,
      returnUrl: returnUrl ?? row.return_url,
    });
  } catch (err) {
    if (err instanceof ProviderUnavailable)
      throw new DomainError('GOVHOST_PAYMENT_PROVIDER_UNAVAILABLE', err.message);
    throw err;
  }
  // The answer and the move to `started` commit together, under the payment's lock.
  await moveAlong(
    db,
    scope,
    id,
    (state) => (state === 'created' ? [['started', 'citizen_arrived']] : []),
    (trx) => calls.finishStart(trx, callId, id, opened.providerRef),
  );
  return opened;
}

/** The moves that bring a `started` or `submitted` payment to what the provider says of it. */
const STEPS: Record<Exclude<ProviderOutcome, 'pending'>, [PaymentState, string][]> = {
  captured: [
    ['submitted', 'details_submitted'],
    ['success', 'captured'],
  ],
  declined: [
    ['submitted', 'details_submitted'],
    ['failed', 'declined'],
  ],
  cancelled: [['cancelled', 'citizen_cancelled']],
  error: [['error', 'provider_error']],
};

/**
 * Asks the provider where a payment stands and moves it there along the transition table (each
 * move with its event, a capture with its ledger posting). Safe to repeat: a payment already at
 * its outcome is left alone; `pending` changes nothing. The reconciliation job will call this.
 */
export async function syncWithProvider(
  db: Db,
  provider: PaymentProvider,
  scope: PaymentScope,
  id: string,
  /** The payment as the caller has just read it in `scope`, so that it is not read twice. */
  read?: PaymentRow,
): Promise<Payment | null> {
  const row = read ?? (await repo.findById(db, scope, id));
  if (!row) throw new DomainError('GOVHOST_PAYMENT_NOT_FOUND', `no payment ${id}`);
  if (!row.provider_ref || (row.state !== 'started' && row.state !== 'submitted')) return null;
  const { outcome } = await provider.status(row.provider_ref);
  if (outcome === 'pending') return null;
  // All the moves in one transaction; decided under the lock, so a payment that another request
  // (or a reconciliation round) brought to its outcome meanwhile is left as it is.
  return moveAlong(db, scope, id, (state) =>
    state === 'started' || state === 'submitted'
      ? STEPS[outcome].filter(([to]) => !(state === 'submitted' && to === 'submitted'))
      : [],
  );
}
