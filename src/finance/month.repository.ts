import type { Executor } from '../platform/database.ts';
import type { Statement } from './statement.ts';

export const findClosed = (db: Executor, month: string) =>
  db.selectFrom('finance_closed_months').selectAll().where('month', '=', month).executeTakeFirst();

export const insertClosed = (db: Executor, month: string, by: string) =>
  db.insertInto('finance_closed_months').values({ month, closed_by: by }).execute();

export const insertStatement = (db: Executor, month: string, departmentId: string, s: Statement) =>
  db
    .insertInto('finance_statements')
    .values({ month, department_id: departmentId, statement: JSON.stringify(s) })
    .execute();

/** A department's kept statement of a closed month (filtered by department, as every tenant query). */
export const findStatement = (db: Executor, month: string, departmentId: string) =>
  db
    .selectFrom('finance_statements')
    .select('statement')
    .where('month', '=', month)
    .where('department_id', '=', departmentId)
    .executeTakeFirst();

export async function adjustments(db: Executor, departmentId: string, month: string) {
  const rows = await db
    .selectFrom('finance_adjustments')
    .selectAll()
    .where('department_id', '=', departmentId)
    .where('month', '=', month)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    forMonth: r.for_month,
    amountCents: Number(r.amount_cents),
    reason: r.reason,
    by: r.created_by,
    at: r.created_at.toISOString(),
  }));
}

/** Departments with adjustments booked in a month (closing keeps their statements too). */
export async function adjustedDepartments(db: Executor, month: string): Promise<string[]> {
  const rows = await db
    .selectFrom('finance_adjustments')
    .select('department_id')
    .distinct()
    .where('month', '=', month)
    .execute();
  return rows.map((r) => r.department_id);
}

export const insertAdjustment = (
  db: Executor,
  a: {
    departmentId: string;
    month: string;
    forMonth: string | null;
    amountCents: number;
    reason: string;
    by: string;
  },
) =>
  db
    .insertInto('finance_adjustments')
    .values({
      department_id: a.departmentId,
      month: a.month,
      for_month: a.forMonth,
      amount_cents: a.amountCents,
      reason: a.reason,
      created_by: a.by,
    })
    .execute();
