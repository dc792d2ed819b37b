import { usageByServiceBetween } from '../monitoring/metrics.repository.ts';
import type { Db } from '../platform/database.ts';
import { departmentCodes } from '../tenancy/department.logic.ts';
import { authorize, type Principal } from '../tenancy/principal.ts';
import { farmEnergy, hoursInService } from './energy.ts';
import { monthBounds } from './month.ts';
import { holdings, listFarms, serviceKeys } from './report.repository.ts';

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Estimated energy of each farm in a month. A farm's utilisation is its services' measured CPU
 * over its vCPU when every service on it has measurements in the month (`basis: measured`),
 * otherwise their reserved CPU (`basis: reserved`): a partly measured farm would look idler than
 * it is.
 */
export async function energyReport(db: Db, caller: Principal, month: string, now = new Date()) {
  authorize(caller, 'capacity:read');
  const { start, end } = monthBounds(month);
  const until = new Date(Math.min(end.getTime(), now.getTime()));
  const farms = await listFarms(db);
  const held = await holdings(db);
  const usage =
    until > start
      ? await usageByServiceBetween(db, [...new Set(held.map((h) => h.serviceId))], start, until)
      : new Map<string, { cpu: number; memoryBytes: number }>();
  const keys = await serviceKeys(db);
  const codes = await departmentCodes(
    db,
    held.map((h) => h.departmentId),
  );
  const slotsOf = new Map<string, number>();
  for (const h of held) slotsOf.set(h.serviceId, (slotsOf.get(h.serviceId) ?? 0) + h.slots);

  const rows = farms
    .map((f) => ({ f, hours: hoursInService(f, month, now) }))
    .filter(({ f, hours }) => hours > 0 || f.state === 'active')
    .map(({ f, hours }) => {
      const on = held.filter((h) => h.farmId === f.id);
      const measured = on.length > 0 && on.every((h) => usage.has(h.serviceId));
      const holders = on.map((h) => ({
        key: h,
        // Measured use of a service on several farms is split by the share of its slots here.
        cpu: measured
          ? (usage.get(h.serviceId)?.cpu ?? 0) * (h.slots / (slotsOf.get(h.serviceId) ?? h.slots))
          : h.cpu,
      }));
      const e = farmEnergy(f, hours, holders);
      return {
        code: f.code,
        state: f.state,
        hours: round(hours, 2),
        basis: measured ? ('measured' as const) : ('reserved' as const),
        cpu: round(holders.reduce((s, h) => s + h.cpu, 0)),
        vcpu: f.vcpu,
        utilisation: round(e.utilisation, 4),
        idleWatts: f.idleWatts,
        maxWatts: f.maxWatts,
        watts: round(e.watts, 1),
        kWh: round(e.kWh, 3),
        services: e.shares
          .map((s) => ({
            service: keys.get(s.key.serviceId) ?? s.key.serviceId,
            department: codes.get(s.key.departmentId) ?? s.key.departmentId,
            cpu: round(s.cpu),
            share: round(s.share, 4),
            kWh: round(s.kWh, 3),
          }))
          .sort((a, b) => b.kWh - a.kWh || a.service.localeCompare(b.service)),
        // An empty farm's draw belongs to no service: the price of spare capacity.
        unallocatedKWh: round(on.length === 0 || e.shares.every((s) => s.cpu === 0) ? e.kWh : 0, 3),
      };
    });
  return {
    month,
    hoursInMonth: (end.getTime() - start.getTime()) / 3_600_000,
    partial: until < end,
    farms: rows,
    totals: {
      farms: rows.length,
      kWh: round(
        rows.reduce((s, r) => s + r.kWh, 0),
        3,
      ),
      unallocatedKWh: round(
        rows.reduce((s, r) => s + r.unallocatedKWh, 0),
        3,
      ),
    },
  };
}

export type EnergyReport = Awaited<ReturnType<typeof energyReport>>;
