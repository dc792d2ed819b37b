import { DomainError } from '../platform/errors.ts';

export const PAYMENT_STATES = [
  'created',
  'started',
  'submitted',
  'success',
  'failed',
  'cancelled',
  'error',
] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

/**
 * The one table of transitions (decision 040): from each state, the states it may move to and the
 * reason codes each move may carry. Nothing else moves a payment; a move not in here is a 409.
 */
export const TRANSITIONS = {
  created: {
    started: ['citizen_arrived'],
    cancelled: ['service_cancelled', 'expired'],
    error: ['provider_error'],
  },
  started: {
    submitted: ['details_submitted'],
    failed: ['citizen_abandoned', 'expired'],
    cancelled: ['service_cancelled', 'citizen_cancelled'],
    error: ['provider_error'],
  },
  submitted: {
    success: ['captured'],
    failed: ['declined', 'expired'],
    error: ['provider_error'],
  },
  success: {},
  failed: {},
  cancelled: {},
  error: {},
} as const satisfies Record<PaymentState, Partial<Record<PaymentState, readonly string[]>>>;

export const isFinal = (state: PaymentState): boolean => Object.keys(TRANSITIONS[state]).length === 0;

/** Throws 409 unless `from → to` with `reason` is in the table; the problem names what is allowed. */
export function checkTransition(from: PaymentState, to: PaymentState, reason: string): void {
  const allowed = TRANSITIONS[from] as Partial<Record<PaymentState, readonly string[]>>;
  const reasons = allowed[to];
  if (!reasons) {
    throw new DomainError('GOVHOST_PAYMENT_TRANSITION', `a ${from} payment cannot become ${to}`, {
      allowed: Object.keys(allowed),
    });
  }
  if (!reasons.includes(reason)) {
    throw new DomainError(
      'GOVHOST_PAYMENT_TRANSITION',
      `${from} → ${to} takes a reason of ${reasons.join(', ')}`,
      {
        allowed: Object.keys(allowed),
      },
    );
  }
}
