/**
 * The payments' reconciliation job (issue 19): settles what the platform could not settle while a
 * request was in flight. Each round
 * - retries provider calls left `pending` (the platform stopped, or the provider did not answer,
 *   between recording a call and storing its answer): a start is asked again with the same payment
 *   id and a refund with the same refund id, which the provider contract makes safe, and the answer
 *   is stored as the request would have stored it;
 * - asks the provider about every payment it has opened whose outcome is not yet known (an outcome
 *   known only later, such as the sandbox's card 4000 0000 0000 0259) and moves it along the
 *   transition table, a capture with its ledger posting.
 * Every write is conditional (a pending call, a submitted refund, a payment row locked and its move
 * checked), so two rounds on two platform processes at once settle each thing once.
 */
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { repeatEvery } from '../platform/repeat.ts';
import { recordRefundOutcome, transition } from './payment.logic.ts';
import * as payments from './payment.repository.ts';
import type { KeyMode } from './payments.tables.ts';
import { type PaymentProvider, ProviderUnavailable } from './provider.ts';
import { syncWithProvider } from './provider-flow.ts';
import * as repo from './reconcile.repository.ts';
import { reconcileDay } from './settlement.logic.ts';

const ANY = { departmentId: null };
/** Calls and payments younger than this belong to requests still in flight (the provider timeout is 10 s). */
export const RECONCILE_GRACE_MS = 60_000;
const RECONCILE_EVERY_MS = 30_000;
/** At most this many calls and this many payments a round; the rest wait for the next. */
const BATCH = 500;

export interface ReconcileRound {
  /** Pending calls this round finished, by operation. */
  calls: { authorise: number; refund: number };
  /** Payments moved to an outcome the provider reported. */
  settled: number;
  /** Calls or payments the provider could not be asked about (left for the next round). */
  unreachable: number;
  /** Moves another process made first (left alone). */
  raced: number;
}

const raced = (err: unknown) => err instanceof DomainError && err.code === 'GOVHOST_PAYMENT_TRANSITION';

/**
 * What a round asks: `provider` holds the test payments (the sandbox), `liveProvider` the live
 * ones (decision 049); a payment whose mode has none waits, counted as unreachable.
 */
export interface ReconcileDeps {
  db: Db;
  provider: PaymentProvider | null;
  liveProvider?: PaymentProvider | null;
  /** The modes the provider's settlement report covers (see reconcileDay); absent: both. */
  modes?: readonly KeyMode[];
}

const providerOf = (deps: ReconcileDeps, mode: KeyMode) =>
  mode === 'live' ? (deps.liveProvider ?? null) : deps.provider;

/** One round at `now` (tests move it forward instead of waiting out the grace). */
export async function reconcilePayments(deps: ReconcileDeps, now = new Date()): Promise<ReconcileRound> {
  const { db } = deps;
  const before = new Date(now.getTime() - RECONCILE_GRACE_MS);
  const round: ReconcileRound = { calls: { authorise: 0, refund: 0 }, settled: 0, unreachable: 0, raced: 0 };
  for (const c of await repo.stalePendingCalls(db, before, BATCH)) {
    const provider = providerOf(deps, c.mode);
    try {
      if (!provider) throw new ProviderUnavailable(`no ${c.mode} payment provider is configured`);
      if (c.operation === 'authorise') {
        const opened = await provider.start({
          paymentId: c.payment_id,
          amount: Number(c.amount),
          description: c.description,
          language: c.language,
          returnUrl: c.return_url,
        });
        const finished = await db.transaction().execute(async (trx) => {
          if (!(await repo.finishPendingCall(trx, c.call_id, 'done', opened.providerRef))) return false;
          await payments.setProviderRef(trx, c.payment_id, opened.providerRef);
          return true;
        });
        if (finished) round.calls.authorise++;
        // The move to `started` (and on) follows below, with the payments the provider holds.
      } else if (
        c.operation === 'refund' &&
        c.refund_id &&
        c.refund_state === 'submitted' &&
        c.provider_ref
      ) {
        const amount = Number(c.refund_amount);
        const { outcome } = await provider.refund({
          providerRef: c.provider_ref,
          refundId: c.refund_id,
          amount,
        });
        const payment = { id: c.payment_id, department_id: c.department_id, service_id: c.service_id };
        await recordRefundOutcome(db, payment, c.refund_id, amount, c.call_id, outcome);
        round.calls.refund++;
      } else {
        // A call whose subject was settled some other way (or an operation nothing records yet).
        await repo.finishPendingCall(db, c.call_id, 'failed', 'superseded');
      }
    } catch (err) {
      if (!(err instanceof ProviderUnavailable)) throw err;
      round.unreachable++;
    }
  }
  for (const p of await repo.unsettledPayments(db, before, BATCH)) {
    const provider = providerOf(deps, p.mode);
    try {
      if (!provider) throw new ProviderUnavailable(`no ${p.mode} payment provider is configured`);
      if (p.state === 'created') await transition(db, ANY, p.id, 'started', 'citizen_arrived');
      if (await syncWithProvider(db, provider, ANY, p.id)) round.settled++;
    } catch (err) {
      if (raced(err)) round.raced++;
      else if (err instanceof ProviderUnavailable) round.unreachable++;
      else throw err;
    }
  }
  return round;
}

/**
 * Runs a round every 30 s until stopped (on the runtime lease's holder only). The first round of
 * each UTC day also reconciles the day before with the provider's settlement report (every
 * department; a run of a day replaces its earlier run, so a restart that repeats it is harmless).
 */
export function startPaymentReconciliation(
  deps: ReconcileDeps,
  log: { error(obj: object, msg: string): void },
): { stop(): Promise<void> } {
  let reconciled: string | null = null;
  const round = async () => {
    await reconcilePayments(deps);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    // The daily comparison reads the sandbox's settlement report; a real live acquirer's report
    // is not compared yet (docs/payments.md).
    if (reconciled !== yesterday && deps.provider) {
      await reconcileDay({ db: deps.db, provider: deps.provider, modes: deps.modes }, yesterday, null);
      reconciled = yesterday;
    }
  };
  return repeatEvery(round, {
    everyMs: RECONCILE_EVERY_MS,
    what: 'payments reconciliation',
    log,
  });
}
