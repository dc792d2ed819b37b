import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { authorize, type Principal } from '../tenancy/principal.ts';
import * as demand from './demand.repository.ts';
import {
  type ForecastFarm,
  type ForecastInput,
  forecast,
  medianFarm,
  type PipelineItem,
} from './forecast.ts';
import { currentMonth } from './month.ts';
import { holdings, listFarms } from './report.repository.ts';

export interface ForecastQuery {
  from?: string;
  months: number;
  /** A fraction in (0, 1]. */
  target: number;
  leadMonths: number;
  scenario?: string;
}

const r1 = (v: number) => Math.round(v * 10) / 10;
const r3 = (v: number) => Math.round(v * 1000) / 1000;
const r4 = (v: number | null) => (v === null ? null : Math.round(v * 10000) / 10000);
/** MB as GB, to 0.1 GB. */
const gb = (mb: number) => r1(mb / 1024);

/** The forecast over what the platform holds and plans, with the scenario's lines on top when asked. */
export async function capacityForecast(db: Db, caller: Principal, q: ForecastQuery, now = new Date()) {
  authorize(caller, 'capacity:read');
  const scenario = q.scenario ?? null;
  if (scenario !== null && !(await demand.scenarioExists(db, scenario))) {
    throw new DomainError(
      'GOVHOST_SCENARIO_NOT_FOUND',
      `no planned demand has the scenario name "${scenario}"`,
    );
  }
  const farms = await listFarms(db);
  // What admission lets placement reserve is capacity × overcommit: that is when a farm is full.
  const effective: (ForecastFarm & { id: string })[] = farms.map((f) => ({
    id: f.id,
    code: f.code,
    state: f.state,
    vcpu: f.vcpu * f.cpuOvercommit,
    memoryMb: f.memoryMb * f.memoryOvercommit,
    storageMb: f.storageGb * 1024,
    activeFrom: f.activeFrom,
    retiredOn: f.retiredOn,
  }));
  const perDept = new Map<string, ForecastInput['reserved'][number] & { storageMb: number }>();
  for (const h of await holdings(db)) {
    const d = perDept.get(h.departmentId) ?? {
      departmentId: h.departmentId,
      memoryMb: 0,
      cpu: 0,
      storageMb: 0,
    };
    d.memoryMb += h.memoryMb;
    d.cpu += h.cpu;
    d.storageMb += h.storageMb;
    perDept.set(h.departmentId, d);
  }
  const items: PipelineItem[] = (await demand.forForecast(db, scenario)).map((r) => ({
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
  const ref = medianFarm(effective.filter((f) => f.state === 'active'));
  const f = forecast({
    from: q.from ?? currentMonth(now),
    months: q.months,
    target: q.target,
    leadMonths: q.leadMonths,
    reserved: [...perDept.values()],
    farms: effective,
    items,
    referenceFarm: ref ? { vcpu: ref.vcpu, memoryMb: ref.memoryMb, storageMb: ref.storageMb } : null,
  });
  return {
    from: f.from,
    months: q.months,
    target: f.target,
    leadMonths: f.leadMonths,
    scenario,
    referenceFarm: ref
      ? { code: ref.code, vcpu: r3(ref.vcpu), memoryMb: r1(ref.memoryMb), storageGb: gb(ref.storageMb ?? 0) }
      : null,
    runsOut: f.runsOut,
    recommendations: f.recommendations,
    scheduledFarms: farms
      .filter((x) => x.state === 'planned' || x.state === 'ordered')
      .map((x) => ({ code: x.code, state: x.state, orderedOn: x.orderedOn, activeFrom: x.activeFrom })),
    pipelineLines: items.length,
    series: f.months.map((m) => ({
      month: m.month,
      farmsActive: m.farmsActive,
      cpu: { demand: r3(m.cpu.demand), capacity: r3(m.cpu.capacity), utilisation: r4(m.cpu.utilisation) },
      memory: {
        demandMb: r1(m.memory.demand),
        capacityMb: r1(m.memory.capacity),
        utilisation: r4(m.memory.utilisation),
      },
      storage: {
        demandGb: gb(m.storage.demand),
        capacityGb: gb(m.storage.capacity),
        utilisation: r4(m.storage.utilisation),
      },
      withRecommended: {
        farms: m.withRecommended.farms,
        cpuUtilisation: r4(m.withRecommended.cpuUtilisation),
        memoryUtilisation: r4(m.withRecommended.memoryUtilisation),
        storageUtilisation: r4(m.withRecommended.storageUtilisation),
      },
      actions: m.actions,
    })),
  };
}

export type CapacityForecast = Awaited<ReturnType<typeof capacityForecast>>;
