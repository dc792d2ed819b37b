/**
 * Unpaid payments expire (decision 043): a payment still `created` or `started` some minutes
 * after it was made (`GOVHOST_PAYMENTS_EXPIRY_MINUTES`, 90 by default) moves along the transition
 * table with the reason `expired`. One job per platform, on the runtime lease's holder.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { repeatEvery } from '../platform/repeat.ts';
import { unpaidBefore } from './hosted.repository.ts';
import { paymentProviders } from './live-mode.ts';
import { transition } from './payment.logic.ts';
import { type PaymentProvider, ProviderUnavailable } from './provider.ts';
import { syncWithProvider } from './provider-flow.ts';
import * as calls from './refund.repository.ts';

const ANY = { departmentId: null };
/** Payments looked at per round; the next round takes the rest. */
const BATCH = 200;

/**
 * One round at `now`: the ids it expired. A payment at the provider's page is first brought up to
 * date (the citizen may have paid a moment ago), then cancelled at the provider, and expired here
 * only once the provider has cancelled it; one the citizen answered first keeps that answer, one
 * whose outcome is still open there, or whose provider does not answer, is left for a later round
 * rather than expired on a guess.
 */
export async function expireUnpaid(
  db: Db,
  testProvider: PaymentProvider | null,
  minutes: number,
  now = new Date(),
  /** The provider of live payments (decision 049); `testProvider` is the test payments' (the sandbox). */
  liveProvider: PaymentProvider | null = null,
): Promise<string[]> {
  const expired: string[] = [];
  for (const p of await unpaidBefore(db, new Date(now.getTime() - minutes * 60_000), BATCH)) {
    const provider = p.mode === 'live' ? liveProvider : testProvider;
    try {
      if (p.state === 'started') {
        if (!provider || !p.provider_ref) continue;
        if (await syncWithProvider(db, provider, ANY, p.id)) continue; // it reached an outcome
        // Stopped at the provider first, so a citizen still on its page cannot pay what expired
        // here. Recorded before it is made, as every provider call is.
        const callId = await calls.recordCall(db, { payment_id: p.id, refund_id: null, operation: 'cancel' });
        const { outcome } = await provider.cancel(p.provider_ref);
        await calls.finishCall(db, callId, 'done', outcome);
        // The citizen answered first (paid, declined, or an outcome known later): that stands.
        if (outcome !== 'cancelled') {
          await syncWithProvider(db, provider, ANY, p.id);
          continue;
        }
        await transition(db, ANY, p.id, 'failed', 'expired');
      } else {
        await transition(db, ANY, p.id, 'cancelled', 'expired');
      }
      expired.push(p.id);
    } catch (err) {
      // Moved meanwhile (the citizen went on, the service cancelled), or the provider is away.
      if (err instanceof ProviderUnavailable) continue;
      if (err instanceof DomainError && err.code === 'GOVHOST_PAYMENT_TRANSITION') continue;
      throw err;
    }
  }
  return expired;
}

/** Runs the expiry every minute until stopped. */
export function startPaymentExpiry(
  config: Pick<Config, 'paymentsSandboxUrl' | 'paymentsExpiryMinutes' | 'paymentsLiveProviderUrl'>,
  db: Db,
  log: FastifyBaseLogger,
) {
  const providers = paymentProviders(config);
  return repeatEvery(
    async () => {
      const ids = await expireUnpaid(
        db,
        providers.test,
        config.paymentsExpiryMinutes,
        new Date(),
        providers.live,
      );
      if (ids.length > 0) log.info({ payments: ids.length }, 'unpaid payments expired');
    },
    { everyMs: 60_000, what: 'payment expiry', log },
  );
}
