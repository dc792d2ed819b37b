import { resolveService, serviceSlugs } from '../catalog/service.logic.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { departmentCodes, resolveDepartment } from '../tenancy/department.logic.ts';
import { authorize, departmentScope, type Principal } from '../tenancy/principal.ts';
import type { KeyMode } from './payments.tables.ts';
import { checkDay } from './settlement.logic.ts';
import * as repo from './summary.repository.ts';

/** What a summary counts, for a service, a period or all of them. */
export interface Figures {
  /** Payments made (created) in the window, in any state. */
  payments: number;
  succeeded: number;
  /** Payments that reached a final state: success, failed, cancelled or error. */
  finished: number;
  /** succeeded ÷ finished; null while none has finished. */
  successRate: number | null;
  /** HK cents of the window's successful payments. */
  captured: number;
  /** Refunds made in the window that succeeded, and their HK cents. */
  refunds: number;
  refunded: number;
}

export interface Summary {
  from: string;
  to: string;
  by: repo.Bucket;
  department: string | null;
  service: string | null;
  mode: KeyMode | null;
  totals: Figures;
  services: (Figures & { department: string; service: string })[];
  /** Every day or month of the window, in order, those without payments at zero. */
  periods: (Figures & { period: string })[];
}

export interface SummaryQuery {
  department?: string | undefined;
  service?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  by?: repo.Bucket | undefined;
  mode?: KeyMode | undefined;
}

/** The longest window a summary or report takes, in days: a year by day, ten years by month. */
const MAX_DAYS = { day: 366, month: 3660 } as const;
const DAY_MS = 86_400_000;

/**
 * The caller's window: the department asked for (404 when it is not theirs to see), the service
 * (which needs its department), and the UTC days `from` to `to`, both included (by default the
 * last 30 days up to today).
 */
export async function windowOf(
  db: Db,
  caller: Principal,
  q: SummaryQuery,
  by: repo.Bucket,
): Promise<{ window: repo.Window; from: string; to: string }> {
  authorize(caller, 'payments:read');
  if (q.service && !q.department)
    throw new DomainError('GOVHOST_VALIDATION', 'service needs its department (department=CODE)');
  const to = q.to ?? new Date().toISOString().slice(0, 10);
  const end = new Date(checkDay(to).getTime() + DAY_MS);
  const from = q.from ?? new Date(end.getTime() - 30 * DAY_MS).toISOString().slice(0, 10);
  const start = checkDay(from);
  if (start >= end) throw new DomainError('GOVHOST_VALIDATION', `from (${from}) is after to (${to})`);
  if (end.getTime() - start.getTime() > MAX_DAYS[by] * DAY_MS)
    throw new DomainError(
      'GOVHOST_VALIDATION',
      `at most ${MAX_DAYS[by]} days ${by === 'day' ? 'by day (ask by=month for longer)' : 'at a time'}`,
    );
  const departmentId = q.department
    ? (await resolveDepartment(db, caller, q.department)).id
    : departmentScope(caller);
  const serviceId =
    q.service && q.department ? (await resolveService(db, caller, q.department, q.service)).id : undefined;
  return { window: { departmentId, serviceId, mode: q.mode, from: start, to: end }, from, to };
}

const zero = (): Figures => ({
  payments: 0,
  succeeded: 0,
  finished: 0,
  successRate: null,
  captured: 0,
  refunds: 0,
  refunded: 0,
});

function add(into: Figures, more: Partial<Record<keyof Figures, string | number | null>>) {
  for (const k of ['payments', 'succeeded', 'finished', 'captured', 'refunds', 'refunded'] as const)
    into[k] += Number(more[k] ?? 0);
  into.successRate = into.finished === 0 ? null : into.succeeded / into.finished;
}

/** Every day or month from `from` to `to`, as the database writes them. */
function periodsOf(from: Date, to: Date, by: repo.Bucket): string[] {
  const out: string[] = [];
  const at = new Date(from);
  if (by === 'month') at.setUTCDate(1);
  while (at < to) {
    out.push(at.toISOString().slice(0, by === 'day' ? 10 : 7));
    if (by === 'day') at.setUTCDate(at.getUTCDate() + 1);
    else at.setUTCMonth(at.getUTCMonth() + 1);
  }
  return out;
}

/**
 * Volumes, success rate and refunds of the caller's payments in a window: in total, per service
 * and per day or month. Department users see only their own department's services.
 */
export async function paymentsSummary(db: Db, caller: Principal, q: SummaryQuery): Promise<Summary> {
  const by = q.by ?? 'day';
  const { window, from, to } = await windowOf(db, caller, q, by);
  const [paid, refunded] = await Promise.all([
    repo.paymentFigures(db, window, by),
    repo.refundFigures(db, window, by),
  ]);
  const totals = zero();
  const perService = new Map<string, Figures & { departmentId: string }>();
  const perPeriod = new Map(periodsOf(window.from, window.to, by).map((p) => [p, zero()]));
  for (const row of [...paid, ...refunded]) {
    add(totals, row);
    const s = perService.get(row.service_id) ?? { ...zero(), departmentId: row.department_id };
    add(s, row);
    perService.set(row.service_id, s);
    const p = perPeriod.get(row.period);
    if (p) add(p, row);
  }
  const [codes, slugs] = await Promise.all([
    departmentCodes(
      db,
      [...perService.values()].map((s) => s.departmentId),
    ),
    serviceSlugs(db, [...perService.keys()]),
  ]);
  const services = [...perService.entries()]
    .map(([id, { departmentId, ...f }]) => ({
      department: codes.get(departmentId) ?? departmentId,
      service: slugs.get(id) ?? id,
      ...f,
    }))
    .sort((a, b) => a.department.localeCompare(b.department) || a.service.localeCompare(b.service));
  return {
    from,
    to,
    by,
    department: q.department?.toUpperCase() ?? null,
    service: q.service ?? null,
    mode: q.mode ?? null,
    totals,
    services,
    periods: [...perPeriod.entries()].map(([period, f]) => ({ period, ...f })),
  };
}
