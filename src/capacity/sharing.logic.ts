import { usageByServiceBetween } from '../monitoring/metrics.repository.ts';
import type { Db } from '../platform/database.ts';
import { departmentCodes } from '../tenancy/department.logic.ts';
import { authorize, type Principal } from '../tenancy/principal.ts';
import { type FarmFacts, holdings, listFarms } from './report.repository.ts';
import { sharingSavings } from './sharing-savings.ts';

const MB = 1024 * 1024;
const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;
const share = (part: number, whole: number) => (whole > 0 ? round(part / whole, 4) : null);

export interface SharingQuery {
  /** Hours of measurements to average over. */
  hours: number;
}

export async function sharingReport(db: Db, caller: Principal, query: SharingQuery, now = new Date()) {
  authorize(caller, 'capacity:read');
  const since = new Date(now.getTime() - query.hours * 3_600_000);
  const farms = await listFarms(db);
  const held = await holdings(db);
  const usage = await usageByServiceBetween(db, [...new Set(held.map((h) => h.serviceId))], since, now);
  const codes = await departmentCodes(
    db,
    held.map((h) => h.departmentId),
  );

  // A service's measured use is spread over its farms by the share of its slots each holds.
  const slotsOf = new Map<string, number>();
  for (const h of held) slotsOf.set(h.serviceId, (slotsOf.get(h.serviceId) ?? 0) + h.slots);

  const active = farms.filter((f) => f.state === 'active');
  const shown = farms.filter((f) => f.state === 'active' || held.some((h) => h.farmId === f.id));
  const farmRows = shown.map((f: FarmFacts) => {
    const on = held.filter((h) => h.farmId === f.id);
    const reserved = {
      cpu: on.reduce((s, h) => s + h.cpu, 0),
      memoryMb: on.reduce((s, h) => s + h.memoryMb, 0),
    };
    const measuredOn = on.filter((h) => usage.has(h.serviceId));
    const measured = measuredOn.reduce(
      (acc, h) => {
        const u = usage.get(h.serviceId);
        const part = h.slots / (slotsOf.get(h.serviceId) ?? h.slots);
        return {
          cpu: acc.cpu + (u?.cpu ?? 0) * part,
          memoryMb: acc.memoryMb + ((u?.memoryBytes ?? 0) * part) / MB,
        };
      },
      { cpu: 0, memoryMb: 0 },
    );
    return {
      code: f.code,
      name: f.name,
      state: f.state,
      capacity: { vcpu: f.vcpu, memoryMb: f.memoryMb },
      overcommit: { cpu: f.cpuOvercommit, memory: f.memoryOvercommit },
      services: new Set(on.map((h) => h.serviceId)).size,
      instances: on.reduce((s, h) => s + h.slots, 0),
      reserved: { cpu: round(reserved.cpu), memoryMb: round(reserved.memoryMb, 1) },
      reservedShare: { cpu: share(reserved.cpu, f.vcpu), memory: share(reserved.memoryMb, f.memoryMb) },
      measured: {
        servicesMeasured: measuredOn.length,
        cpu: round(measured.cpu),
        memoryMb: round(measured.memoryMb, 1),
      },
      // Of what is reserved, how much is really used: the operator's cue for overcommit.
      usedOfReserved: {
        cpu: measuredOn.length ? share(measured.cpu, reserved.cpu) : null,
        memory: measuredOn.length ? share(measured.memoryMb, reserved.memoryMb) : null,
      },
    };
  });

  // Farms alone against farms shared: the one method finance uses too (decision 038).
  const savings = await sharingSavings(db);
  const byDept = new Map<
    string,
    { services: Set<string>; instances: number; cpu: number; memoryMb: number }
  >();
  for (const h of held) {
    const code = codes.get(h.departmentId) ?? h.departmentId;
    const d = byDept.get(code) ?? { services: new Set(), instances: 0, cpu: 0, memoryMb: 0 };
    d.services.add(h.serviceId);
    d.instances += h.slots;
    d.cpu += h.cpu;
    d.memoryMb += h.memoryMb;
    byDept.set(code, d);
  }
  const alone = new Map(savings.departments.map((d) => [d.department, d]));
  const departments = [...new Set([...byDept.keys(), ...alone.keys()])]
    .map((code) => {
      const d = byDept.get(code);
      return {
        department: code,
        services: d?.services.size ?? 0,
        instances: d?.instances ?? 0,
        reserved: { cpu: round(d?.cpu ?? 0), memoryMb: round(d?.memoryMb ?? 0, 1) },
        plannedServices: alone.get(code)?.plannedServices ?? 0,
        farmsAlone: alone.get(code)?.farmsAlone ?? null,
      };
    })
    .sort((a, b) => a.department.localeCompare(b.department));

  const totalServices = new Set(held.map((h) => h.serviceId)).size;
  const sum = (f: (r: (typeof farmRows)[number]) => number) => farmRows.reduce((s, r) => s + f(r), 0);
  const activeRows = farmRows.filter((r) => r.state === 'active');
  return {
    generatedAt: now.toISOString(),
    measuredSince: since.toISOString(),
    farms: farmRows,
    totals: {
      activeFarms: active.length,
      farmsHoldingServices: farmRows.filter((r) => r.services > 0).length,
      services: totalServices,
      instances: held.reduce((s, h) => s + h.slots, 0),
      servicesPerActiveFarm: active.length ? round(totalServices / active.length, 2) : null,
      capacity: {
        vcpu: activeRows.reduce((s, r) => s + r.capacity.vcpu, 0),
        memoryMb: activeRows.reduce((s, r) => s + r.capacity.memoryMb, 0),
      },
      reserved: {
        cpu: round(sum((r) => r.reserved.cpu)),
        memoryMb: round(
          sum((r) => r.reserved.memoryMb),
          1,
        ),
      },
      reservedShare: {
        cpu: share(
          activeRows.reduce((s, r) => s + r.reserved.cpu, 0),
          activeRows.reduce((s, r) => s + r.capacity.vcpu, 0),
        ),
        memory: share(
          activeRows.reduce((s, r) => s + r.reserved.memoryMb, 0),
          activeRows.reduce((s, r) => s + r.capacity.memoryMb, 0),
        ),
      },
      measured: {
        cpu: round(sum((r) => r.measured.cpu)),
        memoryMb: round(
          sum((r) => r.measured.memoryMb),
          1,
        ),
      },
    },
    departments,
    standalone: {
      method: savings.method,
      target: savings.target,
      referenceFarm: savings.referenceFarm,
      farmsIfAlone: savings.farmsAlone,
      /** What the shared platform needs for the same demand (not the farms it runs today). */
      farmsShared: savings.farmsShared,
      farmsAvoided: savings.farmsAvoided,
      costPerFarmHkd: savings.costPerFarmHkd,
      costBasis: savings.costBasis,
      costAvoidedHkd: savings.costAvoidedHkd,
    },
  };
}

export type SharingReport = Awaited<ReturnType<typeof sharingReport>>;
