/**
 * The sandbox's test card numbers (docs/payments.md): each decides a payment's outcome. Any other
 * number is declined. They are test numbers only: the sandbox never meets a real card.
 */
export const TEST_CARDS = {
  '4242424242424242': 'captured',
  '4000000000000002': 'declined',
  '4000000000000119': 'error',
  /** Accepted, with the outcome (captured) known only after the sandbox's late delay. */
  '4000000000000259': 'late',
} as const;

export type CardOutcome = (typeof TEST_CARDS)[keyof typeof TEST_CARDS] | 'declined';

export const outcomeOf = (cardNumber: string): CardOutcome =>
  TEST_CARDS[cardNumber.replace(/[\s-]/g, '') as keyof typeof TEST_CARDS] ?? 'declined';
