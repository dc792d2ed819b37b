/**
 * The one adapter between the platform and a payment provider (decision 040). It fits both the
 * sandbox and a real acquirer's redirect or hosted-fields flow: GovHost sends the citizen to the
 * provider's own page (`redirectUrl`) and never sees a card number; outcomes come back by reading
 * the payment's status (later also the provider's notifications and settlement report).
 */
export interface PaymentProvider {
  readonly name: string;
  /** Opens the payment at the provider, once per payment id: its own id, and where to send the citizen. */
  start(p: {
    paymentId: string;
    amount: number;
    description: string;
    language: 'en' | 'zh-Hant';
    returnUrl: string;
  }): Promise<{ providerRef: string; redirectUrl: string }>;
  /** What the provider knows of the payment now; `pending` while the outcome is not known. */
  status(providerRef: string): Promise<{ outcome: ProviderOutcome }>;
  /**
   * Stops a payment the platform gave up on (it expired): the citizen can no longer pay it. When
   * the citizen answered first, that answer stands: the outcome says where the payment stands.
   * Safe to repeat.
   */
  cancel(providerRef: string): Promise<{ outcome: ProviderOutcome }>;
  /** Gives back `amount` cents of a captured payment, once per `refundId` (a retried call is safe). */
  refund(p: {
    providerRef: string;
    refundId: string;
    amount: number;
  }): Promise<{ outcome: 'success' | 'error' }>;
  /** The provider's settlement report of one UTC day (`YYYY-MM-DD`): what it captured, refunded, charged. */
  settlement(date: string): Promise<SettlementReport>;
}

/** One line of a settlement report: a capture (with the provider's fee) or a refund, in cents. */
export interface SettlementItem {
  type: 'capture' | 'refund';
  /** The platform's payment id (and refund id), as the platform gave them to the provider. */
  paymentId: string;
  providerRef: string;
  refundId: string | null;
  amount: number;
  fee: number;
}

export interface SettlementReport {
  date: string;
  items: SettlementItem[];
  /** What the provider pays out for the day: captures less fees, less refunds. */
  net: number;
}

export type ProviderOutcome = 'pending' | 'captured' | 'declined' | 'cancelled' | 'error';

/** A provider answer the contract does not allow: the call's outcome is unknown. */
export class ProviderUnavailable extends Error {}

/**
 * The adapter for a provider speaking the contract over HTTP (the sandbox; a real acquirer gets a
 * translation of its own API into the same five calls). A refusal (409) is an answer; a network
 * failure, a timeout or any other status throws `ProviderUnavailable`: the outcome is not known.
 */
export function httpProvider(baseUrl: string, timeoutMs = 10_000): PaymentProvider {
  async function call<T>(method: string, path: string, body?: unknown, answers = [200, 201]): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ProviderUnavailable(
        `the payment provider did not answer ${method} ${path}: ${(err as Error).message}`,
      );
    }
    if (!answers.includes(res.status))
      throw new ProviderUnavailable(`the payment provider answered ${method} ${path} with ${res.status}`);
    return (await res.json()) as T;
  }
  return {
    name: 'sandbox',
    start: (p) => call('POST', '/v1/payments', p),
    status: (ref) => call('GET', `/v1/payments/${encodeURIComponent(ref)}`),
    cancel: (ref) => call('POST', `/v1/payments/${encodeURIComponent(ref)}/cancel`),
    refund: (p) => call('POST', '/v1/refunds', p, [200, 409]),
    settlement: (date) => call('GET', `/v1/settlements/${encodeURIComponent(date)}`),
  };
}
