import { recordChange } from '../audit/audit.logic.ts';
import { currentMonth, isMonth } from '../capacity/month.ts';
import { reservationIntervals } from '../capacity/reservation-history.repository.ts';
import { findById as findService } from '../catalog/service.repository.ts';
import type { Db } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import { resolveDepartment } from '../tenancy/department.logic.ts';
import { auditContext, authorize, type Caller, type Principal } from '../tenancy/principal.ts';
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

/**
 * Adds a rate from a day on. The day is today or later (UTC): a new rate never reprices time
 * already reserved, so a statement once seen stays as it was (decision 038).
 */
export async function setRate(
  db: Db,
  caller: Caller,
  input: { resource: RateResource; validFrom: string; centsPerUnit: number; note?: string },
  now = new Date(),
): Promise<rates.Rate[]> {
  authorizeCentral(caller, 'finance:write');
  const today = now.toISOString().slice(0, 10);
  if (Number.isNaN(Date.parse(`${input.validFrom}T00:00:00Z`)))
    throw invalid(`validFrom ${input.validFrom} is not a day`);
  if (input.validFrom < today)
    throw invalid(
      `validFrom ${input.validFrom} is before today (${today}): the past keeps the prices it had`,
    );
  await db
    .transaction()
    .execute(async (trx) => {
      await rates.insertRate(trx, { ...input, note: input.note ?? '', by: caller.username });
      await recordChange(trx, auditContext(caller), {
        action: 'finance-rate.create',
        targetType: 'finance-rate',
        targetId: `${input.resource}@${input.validFrom}`,
        departmentId: null,
        after: input,
      });
    })
    .catch((err: unknown) => {
      if (isUniqueViolation(err))
        throw invalid(`${input.resource} already has a rate from ${input.validFrom}`);
      throw err;
    });
  return rates.listRates(db);
}

/** A department's statement for a month; a department's own roles see only their own. */
export async function monthlyStatement(
  db: Db,
  caller: Principal,
  department: string,
  month: string,
  now = new Date(),
): Promise<Statement> {
  authorize(caller, 'finance:read');
  if (!isMonth(month)) throw invalid(`month ${month} is not YYYY-MM`);
  if (month > currentMonth(now)) throw invalid(`month ${month} has not begun`);
  // Scoped: another department's code answers 404, as if it did not exist.
  const dept = await resolveDepartment(db, caller, department);
  const [y, m] = month.split('-').map(Number) as [number, number];
  const intervals = await reservationIntervals(
    db,
    dept.id,
    new Date(Date.UTC(y, m - 1, 1)),
    new Date(Date.UTC(y, m, 1)),
  );
  const names = new Map<string, string>();
  for (const id of new Set(intervals.map((i) => i.serviceId))) {
    const svc = await findService(db, id);
    names.set(id, svc ? `${dept.code}/${svc.slug}` : `${dept.code}/(deleted ${id.slice(0, 8)})`);
  }
  return priceMonth(
    {
      department: dept.code,
      month,
      intervals,
      rates: await rates.listRates(db),
      serviceName: (id) => names.get(id) ?? id,
    },
    now,
  );
}
