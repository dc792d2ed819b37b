/**
 * Settlement and the daily reconciliation (issue 19). The provider's settlement report of a UTC
 * day lists what it captured (with its fee) and refunded. Each capture or refund the ledger holds
 * at the same amount is settled in the ledger (once: a unique index); then, per department and
 * service, the day's ledger is compared with the report and every difference is stored:
 * - `missing_in_ledger`: the provider reports it, the ledger has no such capture or refund;
 * - `missing_at_provider`: the ledger posted it that day, the report does not list it (and no
 *   other day's report settled it yet);
 * - `amount_mismatch`: both have it, at different amounts.
 */
import { serviceSlugs } from '../catalog/service.logic.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { departmentCodes } from '../tenancy/department.logic.ts';
import { captureSettlementEntries, post, refundSettlementEntries } from './ledger.ts';
import { lockById } from './payment.repository.ts';
import type { KeyMode } from './payments.tables.ts';
import { type PaymentProvider, ProviderUnavailable, type SettlementItem } from './provider.ts';
import * as repo from './settlement.repository.ts';
import type { DifferenceKind } from './settlement.tables.ts';

const DAY_MS = 86_400_000;
const keyOf = (
  i: { kind?: string; type?: string; payment_id?: string; paymentId?: string },
  refund: string | null,
) => `${i.kind ?? i.type}:${i.payment_id ?? i.paymentId}:${refund ?? ''}`;

export interface Difference {
  kind: DifferenceKind;
  item: 'capture' | 'refund';
  paymentId: string;
  refundId: string | null;
  ledgerAmount: number | null;
  providerAmount: number | null;
}

export interface ServiceDay {
  day: string;
  department: string;
  service: string;
  ledgerCaptured: number;
  ledgerRefunded: number;
  providerCaptured: number;
  providerRefunded: number;
  fees: number;
  differences: Difference[];
  runAt: string;
}

/** A `YYYY-MM-DD` that is a real calendar day, or a 400. */
export function checkDay(day: string): Date {
  const at = new Date(`${day}T00:00:00Z`);
  // The years PostgreSQL's timestamps read, with the day after (a window's end) still in them:
  // 9999-12-31 made a 500.
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(day) ||
    Number.isNaN(at.getTime()) ||
    at.toISOString().slice(0, 10) !== day ||
    day < '0001' ||
    day >= '9999'
  )
    throw new DomainError('GOVHOST_VALIDATION', `${day} is not a day (YYYY-MM-DD, years 0001 to 9998)`);
  return at;
}

/** Settles one capture or refund the report and the ledger agree on: once, under the payment's lock. */
async function settle(db: Db, item: SettlementItem, settled: Set<string>) {
  if (settled.has(`${item.paymentId}:${item.refundId ?? ''}`)) return;
  await db.transaction().execute(async (trx) => {
    const payment = await lockById(trx, { departmentId: null }, item.paymentId);
    if (!payment) return;
    if ((await repo.settledKeys(trx, [item.paymentId])).has(`${item.paymentId}:${item.refundId ?? ''}`))
      return;
    await post(trx, {
      departmentId: payment.department_id,
      serviceId: payment.service_id,
      paymentId: item.paymentId,
      refundId: item.refundId,
      kind: 'settlement',
      entries:
        item.type === 'capture'
          ? captureSettlementEntries(item.amount, item.fee)
          : refundSettlementEntries(item.amount),
    });
  });
}

/**
 * Reconciles one day, of one department or (null) every department: settles what agrees, stores
 * each service's comparison (a later run of the same day replaces it) and returns them, with the
 * report's lines the platform does not know at all (`unknown`, listed to whole-platform runs only).
 */
export async function reconcileDay(
  deps: {
    db: Db;
    provider: PaymentProvider;
    /**
     * The modes whose payments this provider holds; absent: both. The sandbox holds only test
     * payments when a real acquirer takes the live ones (decision 049).
     */
    modes?: readonly KeyMode[];
  },
  day: string,
  departmentId: string | null,
): Promise<{ services: ServiceDay[]; unknown: SettlementItem[] }> {
  const { db, provider } = deps;
  const from = checkDay(day);
  // Unreachable, the provider is a 503 to the caller, as it is to a refund (it was a 500).
  const report = await provider.settlement(day).catch((err: unknown) => {
    if (err instanceof ProviderUnavailable)
      throw new DomainError('GOVHOST_PAYMENT_PROVIDER_UNAVAILABLE', err.message);
    throw err;
  });
  const owners = new Map(
    (await repo.paymentsByIds(db, [...new Set(report.items.map((i) => i.paymentId))])).map((p) => [p.id, p]),
  );
  const unknown = report.items.filter((i) => !owners.has(i.paymentId));
  const items = report.items.filter((i) => {
    const owner = owners.get(i.paymentId);
    return owner && (departmentId === null || owner.department_id === departmentId);
  });
  const ledgerDay = await repo.ledgerItemsBetween(
    db,
    from,
    new Date(from.getTime() + DAY_MS),
    departmentId,
    deps.modes,
  );
  const ids = [...new Set([...items.map((i) => i.paymentId), ...ledgerDay.map((l) => l.payment_id)])];
  const ledgerAll = new Map(
    (await repo.ledgerItemsOf(db, [...new Set(items.map((i) => i.paymentId))])).map((l) => [
      keyOf(l, l.refund_id),
      l,
    ]),
  );
  const settled = await repo.settledKeys(db, ids);

  type Acc = Omit<ServiceDay, 'department' | 'service' | 'runAt' | 'day'> & { departmentId: string };
  const perService = new Map<string, Acc>();
  const accOf = (serviceId: string, departmentId: string) => {
    let acc = perService.get(serviceId);
    if (!acc) {
      acc = {
        departmentId,
        ledgerCaptured: 0,
        ledgerRefunded: 0,
        providerCaptured: 0,
        providerRefunded: 0,
        fees: 0,
        differences: [],
      };
      perService.set(serviceId, acc);
    }
    return acc;
  };
  const reported = new Set<string>();
  for (const i of items) {
    const owner = owners.get(i.paymentId)!;
    const acc = accOf(owner.service_id, owner.department_id);
    const key = keyOf(i, i.refundId);
    reported.add(key);
    if (i.type === 'capture') acc.providerCaptured += i.amount;
    else acc.providerRefunded += i.amount;
    acc.fees += i.fee;
    const ledger = ledgerAll.get(key);
    const base = { item: i.type, paymentId: i.paymentId, refundId: i.refundId, providerAmount: i.amount };
    if (!ledger) acc.differences.push({ ...base, kind: 'missing_in_ledger', ledgerAmount: null });
    else if (ledger.amount !== i.amount)
      acc.differences.push({ ...base, kind: 'amount_mismatch', ledgerAmount: ledger.amount });
    else await settle(db, i, settled);
  }
  for (const l of ledgerDay) {
    const acc = accOf(l.service_id, l.department_id);
    if (l.kind === 'capture') acc.ledgerCaptured += l.amount;
    else acc.ledgerRefunded += l.amount;
    const key = keyOf(l, l.refund_id);
    if (!reported.has(key) && !settled.has(`${l.payment_id}:${l.refund_id ?? ''}`))
      acc.differences.push({
        kind: 'missing_at_provider',
        item: l.kind,
        paymentId: l.payment_id,
        refundId: l.refund_id,
        ledgerAmount: l.amount,
        providerAmount: null,
      });
  }
  await db.transaction().execute(async (trx) => {
    for (const [serviceId, acc] of perService)
      await repo.saveDay(
        trx,
        {
          day,
          department_id: acc.departmentId,
          service_id: serviceId,
          ledger_captured: acc.ledgerCaptured,
          ledger_refunded: acc.ledgerRefunded,
          provider_captured: acc.providerCaptured,
          provider_refunded: acc.providerRefunded,
          fees: acc.fees,
          differences: acc.differences.length,
        },
        acc.differences.map((d) => ({
          kind: d.kind,
          item: d.item,
          payment_id: d.paymentId,
          refund_id: d.refundId,
          ledger_amount: d.ledgerAmount,
          provider_amount: d.providerAmount,
        })),
      );
  });
  return {
    services: await storedDays(db, { departmentId, day, limit: 1000 }),
    unknown: departmentId === null ? unknown : [],
  };
}

/** Stored days with their differences, presented with department codes and service slugs. */
export async function storedDays(
  db: Db,
  f: { departmentId: string | null; day?: string; serviceId?: string; limit: number },
): Promise<ServiceDay[]> {
  const rows = await repo.listDays(db, f);
  const diffs = await repo.differencesOf(
    db,
    rows.map((r) => r.id),
  );
  const codes = await departmentCodes(
    db,
    rows.map((r) => r.department_id),
  );
  const slugs = await serviceSlugs(
    db,
    rows.map((r) => r.service_id),
  );
  return rows.map((r) => ({
    day: r.day,
    department: codes.get(r.department_id) ?? r.department_id,
    service: slugs.get(r.service_id) ?? r.service_id,
    ledgerCaptured: Number(r.ledger_captured),
    ledgerRefunded: Number(r.ledger_refunded),
    providerCaptured: Number(r.provider_captured),
    providerRefunded: Number(r.provider_refunded),
    fees: Number(r.fees),
    differences: diffs
      .filter((d) => d.reconciliation_id === r.id)
      .map((d) => ({
        kind: d.kind,
        item: d.item,
        paymentId: d.payment_id,
        refundId: d.refund_id,
        ledgerAmount: d.ledger_amount === null ? null : Number(d.ledger_amount),
        providerAmount: d.provider_amount === null ? null : Number(d.provider_amount),
      })),
    runAt: r.run_at.toISOString(),
  }));
}
