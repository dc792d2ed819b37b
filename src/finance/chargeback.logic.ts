import { recordChange } from '../audit/audit.logic.ts';
import { departmentsStaging, stagedSecondsByDay } from '../build/staging-usage.repository.ts';
import { currentMonth, isMonth, monthBounds } from '../capacity/month.ts';
import { departmentsReserving, reservationIntervals } from '../capacity/reservation-history.repository.ts';
import { findById as findService, list as listServices } from '../catalog/service.repository.ts';
import { requestsByDay } from '../monitoring/metrics.repository.ts';
import type { Db, Executor } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import { departmentCodes, resolveDepartment } from '../tenancy/department.logic.ts';
import { list as listDepartmentRows } from '../tenancy/department.repository.ts';
import { auditContext, authorize, type Caller, type Principal } from '../tenancy/principal.ts';
import * as months from './month.repository.ts';
import * as rates from './rate.repository.ts';
import type { RateResource } from './rate.tables.ts';
import { authorizeCentral } from './scenario.logic.ts';
import { priceMonth, type Statement } from './statement.ts';

const invalid = (detail: string) => new DomainError('GOVHOST_FINANCE_INVALID', detail);

/** The rate card: every department may read what its statements are priced at. */
export async function rateCard(db: Db, caller: Principal): Promise<rates.Rate[]> {
  authorize(caller, 'finance:read');
  return rates.listRates(db);
}

type NewRate = { resource: RateResource; validFrom: string; centsPerUnit: number; note?: string };

/**
 * Adds a rate from a day on. The day is today or later (UTC): a new rate never reprices time
 * already reserved, so a statement once seen stays as it was (decision 038).
 */
export const setRate = (db: Db, caller: Caller, input: NewRate, now = new Date()): Promise<rates.Rate[]> =>
  setRates(db, caller, [input], now);

/** Adds several rates at once (an adopted proposal): all of them, or none when one is refused. */
export async function setRates(
  db: Db,
  caller: Caller,
  inputs: NewRate[],
  now = new Date(),
): Promise<rates.Rate[]> {
  authorizeCentral(caller, 'finance:write');
  const today = now.toISOString().slice(0, 10);
  for (const input of inputs) {
    // Date.parse takes 30 February (as 2 March): the day must read back as written.
    const day = Date.parse(`${input.validFrom}T00:00:00Z`);
    if (Number.isNaN(day) || new Date(day).toISOString().slice(0, 10) !== input.validFrom)
      throw invalid(`validFrom ${input.validFrom} is not a day`);
    if (input.validFrom < today)
      throw invalid(
        `validFrom ${input.validFrom} is before today (${today}): the past keeps the prices it had`,
      );
  }
  let current: NewRate | undefined;
  await db
    .transaction()
    .execute(async (trx) => {
      for (const input of inputs) {
        current = input;
        await rates.insertRate(trx, { ...input, note: input.note ?? '', by: caller.username });
        await recordChange(trx, auditContext(caller), {
          action: 'finance-rate.create',
          targetType: 'finance-rate',
          targetId: `${input.resource}@${input.validFrom}`,
          departmentId: null,
          after: input,
        });
      }
    })
    .catch((err: unknown) => {
      if (isUniqueViolation(err) && current)
        throw invalid(`${current.resource} already has a rate from ${current.validFrom}`);
      throw err;
    });
  return rates.listRates(db);
}

/** The month's statement from reservation history, the rate card and the month's adjustments. */
async function liveStatement(db: Executor, dept: { id: string; code: string }, month: string, now: Date) {
  const { start, end } = monthBounds(month);
  const intervals = await reservationIntervals(db, dept.id, start, end);
  // Requests of every service that reserved in the month or is in the catalogue now (a static
  // site answers requests with nothing reserved).
  const current = await listServices(db, dept.id, { limit: 10_000, offset: 0 }, {});
  const ids = [...new Set([...intervals.map((i) => i.serviceId), ...current.items.map((s) => s.id)])];
  const upTo = new Date(Math.min(end.getTime(), now.getTime()));
  const requests = await requestsByDay(db, ids, start, upTo);
  // Staging by the department's own records: a deleted service's stagings are still its charge.
  const staging = await stagedSecondsByDay(db, dept.id, start, upTo);
  const names = new Map<string, string>();
  for (const id of new Set([
    ...intervals.map((i) => i.serviceId),
    ...requests.map((r) => r.serviceId),
    ...staging.map((r) => r.serviceId),
  ])) {
    const svc = await findService(db, id);
    names.set(id, svc ? `${dept.code}/${svc.slug}` : `${dept.code}/(deleted ${id.slice(0, 8)})`);
  }
  const priced = priceMonth(
    {
      department: dept.code,
      month,
      intervals,
      requests,
      staging,
      rates: await rates.listRates(db),
      serviceName: (id) => names.get(id) ?? id,
    },
    now,
  );
  const adjustments = await months.adjustments(db, dept.id, month);
  return {
    ...priced,
    adjustments,
    totalCents: priced.totalCents + adjustments.reduce((s, a) => s + a.amountCents, 0),
  };
}

const checkMonth = (month: string, now: Date) => {
  if (!isMonth(month)) throw invalid(`month ${month} is not YYYY-MM`);
  if (month > currentMonth(now)) throw invalid(`month ${month} has not begun`);
};

/** A department's statement for a month (a closed month's as it stood); a department's own roles see only their own. */
export async function monthlyStatement(
  db: Db,
  caller: Principal,
  department: string,
  month: string,
  now = new Date(),
): Promise<Statement> {
  authorize(caller, 'finance:read');
  checkMonth(month, now);
  // Scoped: another department's code answers 404, as if it did not exist.
  return statementOf(db, await resolveDepartment(db, caller, department), month, now);
}

/** A department's statement of a month, for callers that have already authorised (budgets). */
export async function statementOf(
  db: Executor,
  dept: { id: string; code: string },
  month: string,
  now = new Date(),
): Promise<Statement> {
  const closed = await months.findClosed(db, month);
  if (!closed) return liveStatement(db, dept, month, now);
  const kept = await months.findStatement(db, month, dept.id);
  const closedAt = closed.closed_at.toISOString();
  // A department with nothing in the month when it closed has an empty statement.
  return { ...(kept?.statement ?? (await liveStatement(db, dept, month, now))), closed: true, closedAt };
}

/** Closes a month that is over: every department's statement is kept as it stands. */
export async function closeMonth(db: Db, caller: Caller, month: string, now = new Date()) {
  authorizeCentral(caller, 'finance:write');
  checkMonth(month, now);
  if (month >= currentMonth(now)) throw invalid(`month ${month} is not over yet`);
  const { start, end } = monthBounds(month);
  return db.transaction().execute(async (trx) => {
    if (await months.findClosed(trx, month))
      throw new DomainError('GOVHOST_FINANCE_MONTH_CLOSED', `${month} is already closed`);
    await months.insertClosed(trx, month, caller.username);
    const kept = new Set([
      ...(await departmentsReserving(trx, start, end)),
      ...(await departmentsStaging(trx, start, end)),
      ...(await months.adjustedDepartments(trx, month)),
    ]);
    // Every department now is priced too: one whose only charge was requests (a static site)
    // must be kept as well, or late data would change its closed month.
    const current = await listDepartmentRows(trx, null, { limit: 100_000, offset: 0 });
    const candidates = [...new Set([...kept, ...current.items.map((d) => d.id)])];
    const codes = await departmentCodes(trx, candidates);
    let totalCents = 0;
    const ids: string[] = [];
    for (const id of candidates) {
      const s = await liveStatement(trx, { id, code: codes.get(id) ?? id }, month, now);
      if (!kept.has(id) && s.lines.length === 0) continue;
      await months.insertStatement(trx, month, id, s);
      ids.push(id);
      totalCents += s.totalCents;
    }
    await recordChange(trx, auditContext(caller), {
      action: 'finance-month.close',
      targetType: 'finance-month',
      targetId: month,
      departmentId: null,
      after: { departments: ids.length, totalCents },
    });
    return { month, departments: ids.length, totalCents };
  });
}

/** Books a correction in an open month (`forMonth`: the closed month it corrects, if any). */
export async function addAdjustment(
  db: Db,
  caller: Caller,
  input: { department: string; month: string; forMonth?: string; amountCents: number; reason: string },
  now = new Date(),
): Promise<Statement> {
  authorizeCentral(caller, 'finance:write');
  checkMonth(input.month, now);
  if (input.amountCents === 0) throw invalid('amountCents must not be 0');
  if (input.forMonth !== undefined && (!isMonth(input.forMonth) || input.forMonth > input.month))
    throw invalid(`forMonth ${input.forMonth} must be a month no later than ${input.month}`);
  const dept = await resolveDepartment(db, caller, input.department);
  await db.transaction().execute(async (trx) => {
    if (await months.findClosed(trx, input.month))
      throw new DomainError(
        'GOVHOST_FINANCE_MONTH_CLOSED',
        `${input.month} is closed: book the correction in an open month, with forMonth ${input.month}`,
      );
    await months.insertAdjustment(trx, {
      departmentId: dept.id,
      month: input.month,
      forMonth: input.forMonth ?? null,
      amountCents: input.amountCents,
      reason: input.reason,
      by: caller.username,
    });
    await recordChange(trx, auditContext(caller), {
      action: 'finance-adjustment.create',
      targetType: 'finance-adjustment',
      targetId: `${dept.code}@${input.month}`,
      departmentId: dept.id,
      after: input,
    });
  });
  return monthlyStatement(db, caller, dept.code, input.month, now);
}
