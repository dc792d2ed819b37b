import type { SettlementItem, SettlementReport } from '../provider.ts';
import type { SandboxState } from './sandbox.state.ts';

/** The sandbox's fee: 1.5 % of a capture, in whole cents, rounded half up; refunds cost nothing. */
export const sandboxFee = (amount: number) => Math.floor((amount * 15 + 500) / 1000);

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * What the sandbox settles for one UTC day, as an acquirer's settlement file would list it: each
 * capture (its amount and fee) on the day it was captured (a late outcome on the day it settled),
 * each refund on the day it was taken, and the net paid out.
 */
export function settlementReport(state: SandboxState, date: string, now = Date.now()): SettlementReport {
  const items: SettlementItem[] = [];
  for (const p of state.all()) {
    if (state.outcome(p, now) === 'captured') {
      const at = p.card === 'late' ? (p.settlesAt ?? 0) : (p.decidedAt ?? 0);
      if (dayOf(at) === date)
        items.push({
          type: 'capture',
          paymentId: p.paymentId,
          providerRef: p.ref,
          refundId: null,
          amount: p.amount,
          fee: sandboxFee(p.amount),
        });
    }
    for (const [refundId, amount] of Object.entries(p.refunds)) {
      if (dayOf(p.refundedAt?.[refundId] ?? 0) === date)
        items.push({ type: 'refund', paymentId: p.paymentId, providerRef: p.ref, refundId, amount, fee: 0 });
    }
  }
  const net = items.reduce((s, i) => s + (i.type === 'capture' ? i.amount - i.fee : -i.amount), 0);
  return { date, items, net };
}
