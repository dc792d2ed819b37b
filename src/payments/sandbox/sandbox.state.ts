import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { type CardOutcome, outcomeOf } from './test-cards.ts';

export type Outcome = 'pending' | 'captured' | 'declined' | 'cancelled' | 'error';

export interface SandboxPayment {
  ref: string;
  paymentId: string;
  amount: number;
  description: string;
  language: 'en' | 'zh-Hant';
  returnUrl: string;
  /** What the card decided, and when; `late` turns into `captured` once `settlesAt` has passed. */
  card: CardOutcome | 'cancelled' | null;
  settlesAt: number | null;
  refunds: Record<string, number>;
  /** When the card was decided and each refund taken (ms): the settlement report's days. */
  decidedAt?: number;
  refundedAt?: Record<string, number>;
}

type Change =
  | { op: 'start'; payment: SandboxPayment }
  | { op: 'card'; ref: string; card: CardOutcome | 'cancelled'; settlesAt: number | null; at?: number }
  | { op: 'refund'; ref: string; refundId: string; amount: number; at?: number };

/**
 * The sandbox's payments, kept in memory and in a journal file (one JSON change a line, written
 * before it is answered), so that a killed sandbox comes back with every payment it had taken.
 */
export class SandboxState {
  private byRef = new Map<string, SandboxPayment>();
  private byPaymentId = new Map<string, string>();

  constructor(
    private readonly journal: string | null,
    private readonly lateMs: number,
  ) {
    if (journal && existsSync(journal)) {
      for (const line of readFileSync(journal, 'utf8').split('\n')) if (line) this.apply(JSON.parse(line));
    }
  }

  private apply(c: Change) {
    if (c.op === 'start') {
      this.byRef.set(c.payment.ref, c.payment);
      this.byPaymentId.set(c.payment.paymentId, c.payment.ref);
    } else if (c.op === 'card') {
      const p = this.byRef.get(c.ref);
      if (p) Object.assign(p, { card: c.card, settlesAt: c.settlesAt, decidedAt: c.at });
    } else {
      const p = this.byRef.get(c.ref);
      if (p) {
        p.refunds[c.refundId] = c.amount;
        p.refundedAt = { ...p.refundedAt, [c.refundId]: c.at ?? 0 };
      }
    }
  }

  private record(c: Change) {
    if (this.journal) appendFileSync(this.journal, `${JSON.stringify(c)}\n`);
    this.apply(c);
  }

  get = (ref: string) => this.byRef.get(ref);

  /** Every payment the sandbox holds (for the settlement report). */
  all = () => this.byRef.values();

  /** Opens a payment, once per platform payment id (a retried start gets the same ref). */
  start(p: Omit<SandboxPayment, 'ref' | 'card' | 'settlesAt' | 'refunds'>): SandboxPayment {
    const known = this.byPaymentId.get(p.paymentId);
    if (known) return this.byRef.get(known)!;
    const payment = {
      ...p,
      ref: `sbx_${randomBytes(12).toString('hex')}`,
      card: null,
      settlesAt: null,
      refunds: {},
    };
    this.record({ op: 'start', payment });
    return payment;
  }

  /** The citizen's answer on the card page; only the first one counts. */
  submit(ref: string, card: string | null): SandboxPayment | undefined {
    const p = this.byRef.get(ref);
    if (!p || p.card) return p;
    const decided = card === null ? 'cancelled' : outcomeOf(card);
    this.record({
      op: 'card',
      ref,
      card: decided,
      settlesAt: decided === 'late' ? Date.now() + this.lateMs : null,
      at: Date.now(),
    });
    return p;
  }

  /**
   * The platform stops a payment it expired: cancelled unless the citizen already answered the
   * card page (then that answer stands, and a later answer is refused). Returns where it stands.
   */
  cancel(ref: string): Outcome | undefined {
    const p = this.byRef.get(ref);
    if (!p) return undefined;
    if (p.card === null) this.record({ op: 'card', ref, card: 'cancelled', settlesAt: null, at: Date.now() });
    return this.outcome(p);
  }

  outcome(p: SandboxPayment, now = Date.now()): Outcome {
    if (p.card === null) return 'pending';
    if (p.card === 'late') return p.settlesAt !== null && now >= p.settlesAt ? 'captured' : 'pending';
    return p.card;
  }

  /** Refunds once per refund id; refused unless captured and within what is left. */
  refund(ref: string, refundId: string, amount: number): 'success' | 'refused' {
    const p = this.byRef.get(ref);
    if (!p || this.outcome(p) !== 'captured') return 'refused';
    if (p.refunds[refundId] !== undefined) return p.refunds[refundId] === amount ? 'success' : 'refused';
    const taken = Object.values(p.refunds).reduce((s, v) => s + v, 0);
    if (taken + amount > p.amount) return 'refused';
    this.record({ op: 'refund', ref, refundId, amount, at: Date.now() });
    return 'success';
  }
}
