import * as demand from '../capacity/demand.repository.ts';
import { demandIn, type PipelineItem } from '../capacity/forecast.ts';
import { addMonths, monthBounds } from '../capacity/month.ts';
import { holdings } from '../capacity/report.repository.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { resolveDepartment } from '../tenancy/department.logic.ts';
import { authorize, type Principal } from '../tenancy/principal.ts';
import { listRates, type Rate } from './rate.repository.ts';
import type { RateResource } from './rate.tables.ts';

/** The rate of a resource in force on a day (`YYYY-MM-DD`), as the card stands today. */
const rateOn = (rates: Rate[], resource: RateResource, day: string) =>
  rates.filter((r) => r.resource === resource && r.validFrom <= day).at(-1)?.centsPerUnit ?? null;

/**
 * A department's expected charge for a financial year (April to March): month by month, what it
 * reserves today plus its planned pipeline lines live by then (growth lines compounded), as the
 * capacity forecast counts demand, priced at the rates the card holds for each month's first day.
 * Rounded half up to the cent once, on the year's total.
 */
export async function expectedCharge(db: Db, caller: Principal, department: string, year: string) {
  authorize(caller, 'finance:read');
  const m = /^([0-9]{4})-([0-9]{2})$/.exec(year);
  if (!m || (Number(m[1]) + 1) % 100 !== Number(m[2]))
    throw new DomainError('GOVHOST_FINANCE_INVALID', `year ${year} is not a financial year like 2027-28`);
  const dept = await resolveDepartment(db, caller, department);
  const reserved = { departmentId: dept.id, memoryMb: 0, cpu: 0, storageMb: 0 };
  for (const h of await holdings(db)) {
    if (h.departmentId !== dept.id) continue;
    reserved.memoryMb += h.memoryMb;
    reserved.cpu += h.cpu;
    reserved.storageMb += h.storageMb;
  }
  const items: PipelineItem[] = (await demand.forForecast(db, null))
    .filter((r) => r.department_id === dept.id || (r.kind === 'growth' && r.department_id === null))
    .map((r) => ({
      kind: r.kind,
      departmentId: r.department_id,
      services: r.services,
      instancesPerService: r.instances_per_service,
      memoryMbPerInstance: r.memory_mb_per_instance,
      cpuPerInstance: Number(r.cpu_per_instance),
      storageMbPerInstance: r.storage_mb_per_instance,
      growthPctPerMonth: r.growth_pct_per_month === null ? null : Number(r.growth_pct_per_month),
      goLive: r.go_live,
      scenario: r.scenario,
    }));
  const rates = await listRates(db);
  let exact = 0;
  let unpriced = false;
  const months = Array.from({ length: 12 }, (_, i) => {
    const month = addMonths(`${m[1]}-04`, i);
    const { start, end } = monthBounds(month);
    const hours = (end.getTime() - start.getTime()) / 3_600_000;
    const d = demandIn(month, [reserved], items);
    const day = `${month}-01`;
    const parts: [number, RateResource][] = [
      [d.memory / 1024, 'memory-gb-hour'],
      [d.cpu, 'cpu-hour'],
      [d.storage / 1024, 'storage-gb-hour'],
    ];
    let cents = 0;
    for (const [units, resource] of parts) {
      const rate = rateOn(rates, resource, day);
      if (units > 0 && rate === null) unpriced = true;
      cents += units * hours * (rate ?? 0);
    }
    exact += cents;
    return {
      month,
      memoryMb: Math.round(d.memory),
      cpu: Math.round(d.cpu * 1000) / 1000,
      storageMb: Math.round(d.storage),
      cents: Math.round(cents * 100) / 100,
    };
  });
  return {
    department: dept.code,
    year,
    months,
    totalCents: Math.floor(exact + 0.5 + 1e-9),
    /** Some demand had no rate for its month: the total leaves it out. */
    unpriced,
  };
}
