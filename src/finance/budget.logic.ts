import { recordChange } from '../audit/audit.logic.ts';
import { currentMonth, monthIndex, monthOf } from '../capacity/month.ts';
import { fanOutEvent } from '../monitoring/notification.logic.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { repeatEvery } from '../platform/repeat.ts';
import { departmentCodes, resolveDepartment } from '../tenancy/department.logic.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import * as repo from './budget.repository.ts';
import type { BudgetPeriod } from './budget.tables.ts';
import { statementOf } from './chargeback.logic.ts';
import { authorizeCentral } from './scenario.logic.ts';

/**
 * Budgets per department: an amount in HK cents for each month or each financial year (April to
 * March), set by finance, with the percentages to be told at (80 and 100 by default). What is
 * spent is the statements' totals (adjustments included) of the period so far; each threshold a
 * period's spend reaches is told once, through the department's notification channels.
 */

export const DEFAULT_THRESHOLDS = [80, 100];
/** Reserved hours add up slowly: a quarter of an hour late is soon enough to tell a threshold. */
export const BUDGET_CHECK_MS = 15 * 60_000;

export interface Budget {
  department: string;
  period: BudgetPeriod;
  amountCents: number;
  thresholds: number[];
  setBy: string;
  setAt: string;
  /** The current period: `2027-04`, or the financial year `2027-28`. */
  periodKey: string;
  spentCents: number;
  /** Spent over the amount, 0.8 at 80 %. */
  share: number;
  /** The thresholds told this period, with what was spent then. */
  alerts: { threshold: number; spentCents: number; at: string }[];
}

const invalid = (detail: string) => new DomainError('GOVHOST_FINANCE_INVALID', detail);

/** The financial year a month falls in (`2027-28` for 2027-04 to 2028-03) and its months up to `month`. */
export function financialYearOf(month: string): { key: string; months: string[] } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const first = m >= 4 ? y : y - 1;
  const start = monthIndex(`${first}-04`);
  const months = Array.from({ length: monthIndex(month) - start + 1 }, (_, i) => monthOf(start + i));
  return { key: `${first}-${String((first + 1) % 100).padStart(2, '0')}`, months };
}

/** What a department has spent in the budget period now in course. */
async function spent(db: Executor, dept: { id: string; code: string }, period: BudgetPeriod, now: Date) {
  const month = currentMonth(now);
  const fy = financialYearOf(month);
  const months = period === 'month' ? [month] : fy.months;
  let cents = 0;
  for (const m of months) cents += (await statementOf(db, dept, m, now)).totalCents;
  return { periodKey: period === 'month' ? month : fy.key, cents };
}

async function present(
  db: Executor,
  row: Awaited<ReturnType<typeof repo.listBudgets>>[number],
  code: string,
  now: Date,
): Promise<Budget> {
  const amountCents = Number(row.amount_cents);
  const s = await spent(db, { id: row.department_id, code }, row.period, now);
  const alerts = (await repo.alertsOf(db, row.department_id, row.period, s.periodKey))
    .filter((a) => Number(a.amount_cents) === amountCents)
    .map((a) => ({
      threshold: a.threshold,
      spentCents: Number(a.spent_cents),
      at: a.alerted_at.toISOString(),
    }));
  return {
    department: code,
    period: row.period,
    amountCents,
    thresholds: [...row.thresholds].sort((a, b) => a - b),
    setBy: row.set_by,
    setAt: row.set_at.toISOString(),
    periodKey: s.periodKey,
    spentCents: s.cents,
    share: s.cents / amountCents,
    alerts,
  };
}

/** Budgets with what is spent so far: a department's roles see their own, the central roles any. */
export async function listBudgets(
  db: Db,
  caller: Principal,
  department?: string,
  now = new Date(),
): Promise<Budget[]> {
  authorize(caller, 'finance:read');
  const scope = departmentScope(caller);
  const only = department ? (await resolveDepartment(db, caller, department)).id : scope;
  const rows = await repo.listBudgets(db, only);
  const codes = await departmentCodes(
    db,
    rows.map((r) => r.department_id),
  );
  const out: Budget[] = [];
  for (const r of rows) out.push(await present(db, r, codes.get(r.department_id) ?? r.department_id, now));
  return out.sort((a, b) => a.department.localeCompare(b.department) || a.period.localeCompare(b.period));
}

/** Sets (or replaces) a department's budget for a period; finance and platform admins only. */
export async function setBudget(
  db: Db,
  caller: Caller,
  input: { department: string; period: BudgetPeriod; amountCents: number; thresholds?: number[] },
  now = new Date(),
): Promise<Budget> {
  authorizeCentral(caller, 'finance:write');
  const thresholds = [...new Set(input.thresholds ?? DEFAULT_THRESHOLDS)].sort((a, b) => a - b);
  if (thresholds.length === 0) throw invalid('give at least one threshold, in percent of the budget');
  if (!Number.isInteger(input.amountCents) || input.amountCents <= 0)
    throw invalid(`amountCents ${input.amountCents} is not a positive whole number of cents`);
  const dept = await resolveDepartment(db, caller, input.department);
  await db.transaction().execute(async (trx) => {
    await repo.upsertBudget(trx, {
      departmentId: dept.id,
      period: input.period,
      amountCents: input.amountCents,
      thresholds,
      by: caller.username,
    });
    await recordChange(trx, auditContext(caller), {
      action: 'finance-budget.set',
      targetType: 'finance-budget',
      targetId: `${dept.code}/${input.period}`,
      departmentId: dept.id,
      after: { amountCents: input.amountCents, thresholds },
    });
  });
  const [row] = (await repo.listBudgets(db, dept.id)).filter((r) => r.period === input.period);
  if (!row) throw new Error('the budget just set is gone');
  return present(db, row, dept.code, now);
}

export async function removeBudget(db: Db, caller: Caller, department: string, period: BudgetPeriod) {
  authorizeCentral(caller, 'finance:write');
  const dept = await resolveDepartment(db, caller, department);
  await db.transaction().execute(async (trx) => {
    if (!(await repo.deleteBudget(trx, dept.id, period)))
      throw new DomainError('GOVHOST_FINANCE_BUDGET_NOT_FOUND', `${dept.code} has no ${period}ly budget`);
    await recordChange(trx, auditContext(caller), {
      action: 'finance-budget.delete',
      targetType: 'finance-budget',
      targetId: `${dept.code}/${period}`,
      departmentId: dept.id,
    });
  });
}

const SYSTEM = { actorId: null, actorName: 'govhost', requestId: null };
const money = (cents: number) => `HK$${(cents / 100).toFixed(2)}`;

/**
 * One round of the budget watch at `now`: every threshold a budget's current period has reached
 * and not yet told is recorded and told (audit, the department's channels). The record is
 * inserted first and only its inserter tells, so two rounds or replicas never tell twice.
 */
export async function checkBudgets(
  db: Db,
  now = new Date(),
): Promise<{ department: string; period: BudgetPeriod; threshold: number }[]> {
  const rows = await repo.listBudgets(db, null);
  const codes = await departmentCodes(
    db,
    rows.map((r) => r.department_id),
  );
  const told: { department: string; period: BudgetPeriod; threshold: number }[] = [];
  for (const r of rows) {
    const code = codes.get(r.department_id);
    if (!code) continue; // the department is gone
    const amountCents = Number(r.amount_cents);
    const s = await spent(db, { id: r.department_id, code }, r.period, now);
    // Integers only: spent × 100 ≥ amount × threshold, no fractions to round.
    const reached = r.thresholds.filter((th) => s.cents * 100 >= amountCents * th).sort((a, b) => a - b);
    for (const threshold of reached) {
      await db.transaction().execute(async (trx) => {
        const fresh = await repo.insertAlert(trx, {
          departmentId: r.department_id,
          period: r.period,
          periodKey: s.periodKey,
          threshold,
          amountCents,
          spentCents: s.cents,
          at: now,
        });
        if (!fresh) return;
        const message = `${code} has spent ${money(s.cents)} of its ${r.period === 'month' ? 'monthly' : 'yearly'} budget of ${money(amountCents)} for ${s.periodKey}: ${threshold} % reached`;
        await recordChange(trx, SYSTEM, {
          action: 'finance-budget.alert',
          targetType: 'finance-budget',
          targetId: `${code}/${r.period}`,
          departmentId: r.department_id,
          after: { periodKey: s.periodKey, threshold, spentCents: s.cents, amountCents },
        });
        await fanOutEvent(trx, r.department_id, threshold >= 100 ? 'P2' : 'P3', {
          id: `budget-${code}-${r.period}-${s.periodKey}-${threshold}-${amountCents}`,
          event: 'finance.budget-alert',
          incidentId: null,
          service: code,
          severity: threshold >= 100 ? 'P2' : 'P3',
          rule: null,
          state: null,
          message,
          openedAt: now.toISOString(),
          resolvedAt: null,
          timeToResolveSec: null,
        });
        told.push({ department: code, period: r.period, threshold });
      });
    }
  }
  return told;
}

/** Checks budgets every `everyMs` until stopped (on the runtime lease's holder only, like the SLA watch). */
export function startBudgetWatch(
  db: Db,
  log: { error(obj: object, msg: string): void },
  everyMs = BUDGET_CHECK_MS,
): { stop(): Promise<void> } {
  return repeatEvery(() => checkBudgets(db), { everyMs, what: 'finance budget check', log });
}
