import type { Executor } from '../platform/database.ts';
import type { BudgetPeriod } from './budget.tables.ts';

/** Budgets, of one department or (null: the central team's view) of all. */
export function listBudgets(db: Executor, departmentId: string | null) {
  let q = db.selectFrom('finance_budgets').selectAll();
  if (departmentId !== null) q = q.where('department_id', '=', departmentId);
  return q.orderBy('department_id').orderBy('period').execute();
}

export const upsertBudget = (
  db: Executor,
  row: { departmentId: string; period: BudgetPeriod; amountCents: number; thresholds: number[]; by: string },
) =>
  db
    .insertInto('finance_budgets')
    .values({
      department_id: row.departmentId,
      period: row.period,
      amount_cents: row.amountCents,
      thresholds: row.thresholds,
      set_by: row.by,
    })
    .onConflict((oc) =>
      oc.columns(['department_id', 'period']).doUpdateSet({
        amount_cents: row.amountCents,
        thresholds: row.thresholds,
        set_by: row.by,
        set_at: new Date(),
      }),
    )
    .execute();

export const deleteBudget = async (db: Executor, departmentId: string, period: BudgetPeriod) =>
  Number(
    (
      await db
        .deleteFrom('finance_budgets')
        .where('department_id', '=', departmentId)
        .where('period', '=', period)
        .executeTakeFirst()
    ).numDeletedRows,
  ) > 0;

/** Records a crossing; false when it was already recorded (told before, or by another round). */
export async function insertAlert(
  db: Executor,
  row: {
    departmentId: string;
    period: BudgetPeriod;
    periodKey: string;
    threshold: number;
    amountCents: number;
    spentCents: number;
    at: Date;
  },
): Promise<boolean> {
  const r = await db
    .insertInto('finance_budget_alerts')
    .values({
      department_id: row.departmentId,
      period: row.period,
      period_key: row.periodKey,
      threshold: row.threshold,
      amount_cents: row.amountCents,
      spent_cents: row.spentCents,
      alerted_at: row.at,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('threshold')
    .executeTakeFirst();
  return r !== undefined;
}

/** The alerts of one department's period, oldest first. */
export const alertsOf = (db: Executor, departmentId: string, period: BudgetPeriod, periodKey: string) =>
  db
    .selectFrom('finance_budget_alerts')
    .selectAll()
    .where('department_id', '=', departmentId)
    .where('period', '=', period)
    .where('period_key', '=', periodKey)
    .orderBy('threshold')
    .execute();
