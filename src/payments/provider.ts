/**
 * The one adapter between the platform and a payment provider (decision 040). It fits both the
 * sandbox and a real acquirer's redirect or hosted-fields flow: GovHost sends the citizen to the
 * provider's own page (`redirectUrl`) and never sees a card number; outcomes come back by reading
 * the payment's status (and, later, the provider's notifications and settlement report).
 */
export interface PaymentProvider {
  readonly name: string;
  /** Opens the payment at the provider: its own id for it, and where to send the citizen. */
  start(p: {
    paymentId: string;
    amount: number;
    description: string;
    language: 'en' | 'zh-Hant';
    returnUrl: string;
  }): Promise<{ providerRef: string; redirectUrl: string }>;
  /** What the provider knows of the payment now; `pending` when the outcome is known only later. */
  status(
    providerRef: string,
  ): Promise<{ outcome: 'pending' | 'captured' | 'declined' | 'cancelled' | 'error' }>;
  /** Gives back `amount` cents of a captured payment; `refundId` makes a retried call safe. */
  refund(p: {
    providerRef: string | null;
    refundId: string;
    amount: number;
  }): Promise<{ outcome: 'success' | 'error' }>;
}

/**
 * Where test-mode payments go until the sandbox runs as its own process (the next slice): it takes
 * every refund at once. It stands in for the sandbox's refund answer only; payments reach their
 * outcomes through `transition` (payment.logic.ts), which the provider flow will drive.
 */
export const acceptingSandbox: PaymentProvider = {
  name: 'sandbox',
  async start() {
    throw new Error('the sandbox provider process is not part of this slice yet');
  },
  async status() {
    return { outcome: 'pending' };
  },
  async refund() {
    return { outcome: 'success' };
  },
};
