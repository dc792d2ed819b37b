import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import * as creates from './create.repository.ts';
import { madeBefore, once, requestHash } from './idempotency.ts';
import type { ServiceKey } from './keys.logic.ts';
import { captureEntries, post, refundEntries } from './ledger.ts';
import type { PaymentRow, PaymentScope } from './payment.repository.ts';
import * as repo from './payment.repository.ts';
import type { Language } from './payments.tables.ts';
import { type PaymentProvider, ProviderUnavailable } from './provider.ts';
import * as refunds from './refund.repository.ts';
import { checkTransition, type PaymentState } from './states.ts';
import { queueWebhook } from './webhook.events.ts';

export interface NewPayment {
  amount: number;
  reference: string;
  description: string;
  returnUrl: string;
  language?: Language;
  metadata?: Record<string, string | number | boolean>;
}

export interface Payment {
  id: string;
  amount: number;
  currency: 'HKD';
  reference: string;
  description: string;
  returnUrl: string;
  language: Language;
  metadata: Record<string, string | number | boolean>;
  state: PaymentState;
  mode: 'test' | 'live';
  refunded: number;
  refundable: number;
  createdAt: string;
  updatedAt: string;
}

export interface Refund {
  id: string;
  paymentId: string;
  amount: number;
  state: 'submitted' | 'success' | 'error';
  createdAt: string;
}

export const presentPayment = (r: PaymentRow): Payment => ({
  id: r.id,
  amount: Number(r.amount),
  currency: r.currency,
  reference: r.reference,
  description: r.description,
  returnUrl: r.return_url,
  language: r.language,
  metadata: r.metadata,
  state: r.state,
  mode: r.mode,
  refunded: Number(r.refunded),
  refundable: r.state === 'success' ? Number(r.amount) - Number(r.refunded) : 0,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const presentRefund = (r: Awaited<ReturnType<typeof refunds.listForPayment>>[number]): Refund => ({
  id: r.id,
  paymentId: r.payment_id,
  amount: Number(r.amount),
  state: r.state,
  createdAt: r.created_at.toISOString(),
});

const NO_PROVIDER = 'no payment provider is configured (GOVHOST_PAYMENTS_SANDBOX_URL)';

const keyScope = (key: Pick<ServiceKey, 'serviceId' | 'mode'>): PaymentScope => ({
  serviceId: key.serviceId,
  mode: key.mode,
});

async function mustFind(db: Executor, scope: PaymentScope, id: string): Promise<PaymentRow> {
  const row = await repo.findById(db, scope, id);
  if (!row) throw new DomainError('GOVHOST_PAYMENT_NOT_FOUND', `no payment ${id}`);
  return row;
}

/**
 * Creates a payment (state `created`) once per idempotency key; `replayed` when it existed. The
 * claim, the payment and its event are one statement (create.repository.ts); a key claimed before
 * answers with what it made (409 for another body), read as it stands now.
 */
export async function createPayment(
  db: Db,
  key: ServiceKey,
  input: NewPayment,
  idempotencyKey: string,
): Promise<{ payment: Payment; replayed: boolean }> {
  const scope = { serviceId: key.serviceId, mode: key.mode, key: idempotencyKey };
  const hash = requestHash('create', input);
  const row = await creates.insertClaimed(
    db,
    {
      department_id: key.departmentId,
      service_id: key.serviceId,
      mode: key.mode,
      amount: input.amount,
      reference: input.reference,
      description: input.description,
      return_url: input.returnUrl,
      metadata: input.metadata ?? {},
      language: input.language ?? 'en',
    },
    { key: idempotencyKey, requestHash: hash },
  );
  if (row) return { payment: presentPayment(row), replayed: false };
  const { made } = await madeBefore(db, scope, hash);
  return { payment: presentPayment(await mustFind(db, keyScope(key), made.paymentId)), replayed: true };
}

export async function getPayment(db: Db, scope: PaymentScope, id: string) {
  const row = await mustFind(db, scope, id);
  const history = await repo.events(db, id);
  return {
    ...presentPayment(row),
    events: history.map((e) => ({
      from: e.from_state,
      to: e.to_state,
      reason: e.reason,
      at: e.at.toISOString(),
    })),
  };
}

export const getPaymentForKey = (db: Db, key: ServiceKey, id: string) => getPayment(db, keyScope(key), id);

export async function searchPayments(
  db: Db,
  scope: PaymentScope,
  page: Page,
  filter: repo.PaymentFilter,
): Promise<PageOf<Payment>> {
  const { items, total } = await repo.search(db, scope, page, filter);
  return { items: items.map(presentPayment), total, ...page };
}

/** One move of a payment: where to, and the reason code the transition table lists for it. */
export type Move = readonly [to: PaymentState, reason: string];

/**
 * Moves a payment along the one transition table, in one transaction: the row is locked, the
 * move checked, the state and its event written, and a capture's ledger posting with them.
 */
export async function transition(
  db: Db,
  scope: PaymentScope,
  id: string,
  to: PaymentState,
  reason: string,
): Promise<Payment> {
  // One move always moves (or throws): never null.
  return (await moveAlong(db, scope, id, () => [[to, reason]])) as Payment;
}

/**
 * Moves a payment through several moves in one transaction under one row lock (a provider's
 * outcome reached through `submitted`), each checked against the transition table and written
 * with its event and any posting, as `transition` does. `movesFrom` decides the moves from the
 * state found under the lock, so a payment another process moved meanwhile is not moved twice;
 * `underLock` first writes what belongs with the moves (the provider call that opened the payment).
 * Null when there was nothing to move. One transaction instead of one per move: fewer round trips
 * to the database, which is what a payment's time goes to (docs/benchmarks.md, "Payments").
 */
export async function moveAlong(
  db: Db,
  scope: PaymentScope,
  id: string,
  movesFrom: (state: PaymentState) => readonly Move[],
  underLock?: (trx: Executor, row: PaymentRow) => Promise<void>,
): Promise<Payment | null> {
  return db.transaction().execute(async (trx) => {
    // The lock's read also says whether the service has a webhook: one round trip for both.
    const locked = await repo.lockForMove(trx, scope, id);
    if (!locked) throw new DomainError('GOVHOST_PAYMENT_NOT_FOUND', `no payment ${id}`);
    const { has_webhook: hasWebhook, ...found } = locked;
    let row: PaymentRow = found;
    await underLock?.(trx, row);
    const moves = movesFrom(row.state);
    for (const [to, reason] of moves) {
      checkTransition(row.state, to, reason);
      // The move and its event in one statement.
      const moved = await repo.setStateWithEvent(trx, id, row.state, to, reason);
      if (!moved) throw new Error(`payment ${id} moved under its lock`);
      if (to === 'success') {
        await post(trx, {
          departmentId: row.department_id,
          serviceId: row.service_id,
          paymentId: id,
          kind: 'capture',
          entries: captureEntries(Number(row.amount)),
        });
      }
      const payment = presentPayment(moved.row);
      // The service's webhook commits with the move (decision 047), one per move.
      await queueWebhook(
        trx,
        row.service_id,
        {
          id: `payment-event-${moved.eventId}`,
          type: `payment.${to as Exclude<PaymentState, 'created'>}`,
          mode: payment.mode,
          createdAt: payment.updatedAt,
          payment,
        },
        Boolean(hasWebhook),
      );
      row = moved.row;
    }
    return moves.length > 0 ? presentPayment(row) : null;
  });
}

export const cancelPayment = (db: Db, key: ServiceKey, id: string) =>
  transition(db, keyScope(key), id, 'cancelled', 'service_cancelled');

/**
 * Refunds part or all of a captured payment, once per idempotency key. The amount is set aside on
 * the payment by a conditional update (never above what was captured, even when refunds race) and
 * the provider call is recorded in the same transaction, before it is made; its answer then
 * settles the refund and its ledger posting together, or gives the amount back.
 */
export async function refundPayment(
  db: Db,
  provider: PaymentProvider | null,
  /** The payment's service and mode: a payment key's, or those of a payment staff refund. */
  key: Pick<ServiceKey, 'serviceId' | 'mode'>,
  paymentId: string,
  amount: number,
  idempotencyKey: string,
  /** Written in the refund's own transaction: a refund from the console is audited with it. */
  audit?: (trx: Executor, refundId: string) => Promise<void>,
): Promise<{ refund: Refund; replayed: boolean }> {
  const scope = keyScope(key);
  const payment = await mustFind(db, scope, paymentId);
  if (!provider) throw new DomainError('GOVHOST_PAYMENT_PROVIDER_UNAVAILABLE', NO_PROVIDER);
  let callId: string | null = null;
  const { made, replayed } = await once(
    db,
    { serviceId: key.serviceId, mode: key.mode, key: idempotencyKey },
    requestHash(`refund ${paymentId}`, { amount }),
    async (trx) => {
      if (!(await repo.reserveRefund(trx, paymentId, amount))) {
        const now = await mustFind(trx, scope, paymentId);
        throw new DomainError(
          'GOVHOST_REFUND_EXCEEDS_CAPTURE',
          now.state === 'success'
            ? `${Number(now.amount) - Number(now.refunded)} cents are left to refund`
            : `a ${now.state} payment has nothing to refund`,
        );
      }
      const refundId = await refunds.insert(trx, {
        payment_id: paymentId,
        department_id: payment.department_id,
        amount,
      });
      callId = await refunds.recordCall(trx, {
        payment_id: paymentId,
        refund_id: refundId,
        operation: 'refund',
      });
      await audit?.(trx, refundId);
      return { paymentId, refundId };
    },
  );
  const refundId = made.refundId!;
  if (!replayed && callId) await settleRefund(db, provider, payment, refundId, amount, callId);
  else if (!replayed) throw new Error('a refund was made without its provider call');
  return { refund: presentRefund((await refunds.findById(db, paymentId, refundId))!), replayed };
}

async function settleRefund(
  db: Db,
  provider: PaymentProvider,
  payment: PaymentRow,
  refundId: string,
  amount: number,
  callId: string,
) {
  let outcome: 'success' | 'error';
  try {
    // A captured payment went through the provider, so it has the provider's reference.
    const providerRef = payment.provider_ref as string;
    outcome = (await provider.refund({ providerRef, refundId, amount })).outcome;
  } catch (err) {
    // Not known whether the provider took it: the refund stays submitted, its call pending, for
    // reconciliation to ask (the provider refunds once per refund id, so asking again is safe).
    if (err instanceof ProviderUnavailable) return;
    throw err;
  }
  await recordRefundOutcome(db, payment, refundId, amount, callId, outcome);
}

/**
 * Stores the provider's answer to a refund in one transaction: the call finished, the refund
 * settled with its ledger posting, or its set-aside amount given back. Only a `submitted` refund
 * is settled, so the request and a reconciliation round that race settle it once.
 */
export async function recordRefundOutcome(
  db: Db,
  payment: Pick<PaymentRow, 'id' | 'department_id' | 'service_id'>,
  refundId: string,
  amount: number,
  callId: string,
  outcome: 'success' | 'error',
) {
  await db.transaction().execute(async (trx) => {
    await refunds.finishCall(trx, callId, outcome === 'success' ? 'done' : 'failed', outcome);
    if (!(await refunds.setState(trx, refundId, outcome))) return;
    if (outcome === 'success') {
      await post(trx, {
        departmentId: payment.department_id,
        serviceId: payment.service_id,
        paymentId: payment.id,
        refundId,
        kind: 'refund',
        entries: refundEntries(amount),
      });
    } else {
      await repo.releaseRefund(trx, payment.id, amount);
    }
    // The service's webhook commits with the refund's outcome (decision 047).
    const now = (await repo.findById(trx, { departmentId: payment.department_id }, payment.id))!;
    const refund = (await refunds.findById(trx, payment.id, refundId))!;
    await queueWebhook(trx, payment.service_id, {
      id: `refund-${refundId}-${outcome}`,
      type: `refund.${outcome}`,
      mode: now.mode,
      createdAt: refund.updated_at.toISOString(),
      payment: presentPayment(now),
      refund: presentRefund(refund),
    });
  });
}

export async function listRefunds(db: Db, scope: PaymentScope, paymentId: string): Promise<Refund[]> {
  await mustFind(db, scope, paymentId);
  return (await refunds.listForPayment(db, paymentId)).map(presentRefund);
}

export const listRefundsForKey = (db: Db, key: ServiceKey, id: string) => listRefunds(db, keyScope(key), id);
