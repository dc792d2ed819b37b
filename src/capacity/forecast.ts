import type { FarmState } from './capacity.tables.ts';
import type { DemandKind } from './demand.tables.ts';
import { addMonths, monthIndex, monthOf, monthOfDate } from './month.ts';

/**
 * The expansion forecast, as a pure function of what the platform holds and plans: month by
 * month, demand against the capacity of the farms in service that month, when each resource
 * passes the target utilisation, and when to order and commission each next farm so that it
 * arrives just in time (no earlier: a farm bought early stands idle).
 */

export const RESOURCES = ['cpu', 'memory', 'storage'] as const;
export type Resource = (typeof RESOURCES)[number];

export interface ForecastFarm {
  code: string;
  state: FarmState;
  /** What placement may reserve on it: capacity × overcommit, since admission refuses past that. */
  vcpu: number;
  memoryMb: number;
  /** Storage, MB (storage is not overcommitted); none when absent. */
  storageMb?: number;
  /** `YYYY-MM-DD`, planned or as happened. */
  activeFrom: string | null;
  retiredOn: string | null;
}

/** One line of the demand pipeline (see demand.tables.ts for the meaning of each field). */
export interface PipelineItem {
  kind: DemandKind;
  departmentId: string | null;
  services: number;
  instancesPerService: number;
  memoryMbPerInstance: number;
  cpuPerInstance: number;
  /** Disk per instance, MB; none when absent. */
  storageMbPerInstance?: number;
  growthPctPerMonth: number | null;
  /** `YYYY-MM`: the item counts from this month on. */
  goLive: string;
  scenario: string | null;
}

export interface ForecastInput {
  /** First month forecast, `YYYY-MM`. */
  from: string;
  months: number;
  /** Utilisation not to pass, a fraction in (0, 1]. */
  target: number;
  /** Months from ordering a farm to having it in service. */
  leadMonths: number;
  /** What is reserved today, per department. */
  reserved: { departmentId: string; memoryMb: number; cpu: number; storageMb?: number }[];
  farms: ForecastFarm[];
  /** The baseline items, and those of the scenario asked for. */
  items: PipelineItem[];
  /** The size of each farm to buy (capacity × overcommit); null when there is no farm to copy. */
  referenceFarm: ReferenceFarm | null;
}

/** A farm as the forecast buys it: capacity × overcommit, storage in MB (none when absent). */
export interface ReferenceFarm {
  vcpu: number;
  memoryMb: number;
  storageMb?: number;
}

/** A farm's capacity of one resource. */
const capacityOf = (f: { vcpu: number; memoryMb: number; storageMb?: number }, r: Resource) =>
  r === 'cpu' ? f.vcpu : r === 'memory' ? f.memoryMb : (f.storageMb ?? 0);

export interface ResourceMonth {
  demand: number;
  capacity: number;
  /** demand / capacity; null when there is no capacity. */
  utilisation: number | null;
}

export interface ForecastMonth {
  month: string;
  /** Farms in service this month (active, or planned/ordered with a date that has come). */
  farmsActive: number;
  cpu: ResourceMonth;
  memory: ResourceMonth;
  storage: ResourceMonth;
  /** The same month if the recommended farms are bought as advised. */
  withRecommended: {
    farms: number;
    cpuUtilisation: number | null;
    memoryUtilisation: number | null;
    storageUtilisation: number | null;
  };
  actions: string[];
}

export interface Recommendation {
  /** 1 for the first farm the forecast recommends, 2 for the next… */
  farm: number;
  /** The resource that passes the target first in `neededFor`. */
  resource: Resource;
  /** The first month demand would pass the target without this farm. */
  neededFor: string;
  /** In service by the month before: just in time. */
  commissionBy: string;
  /** `leadMonths` before commissioning. */
  orderBy: string;
  /** The order date is before the forecast's first month: order now. */
  late: boolean;
}

export interface Forecast {
  from: string;
  months: ForecastMonth[];
  target: number;
  leadMonths: number;
  referenceFarm: ReferenceFarm | null;
  /** First month each resource passes the target with the farms in service and scheduled; null: never. */
  runsOut: Record<Resource, string | null>;
  recommendations: Recommendation[];
}

/** Whether a farm is in service during `month` (in service from its start month, out in its retire month). */
export function inService(farm: ForecastFarm, month: string): boolean {
  if (farm.retiredOn && monthOfDate(farm.retiredOn) <= month) return false;
  if (farm.state === 'retired' && !farm.retiredOn) return false;
  // An active farm with no recorded start has been in service all along; a planned one without a
  // date is not counted anywhere until it gets one.
  if (!farm.activeFrom) return farm.state === 'active';
  return monthOfDate(farm.activeFrom) <= month;
}

/** Demand in `month`: today's reservations grown as the growth items say, plus pipeline items live by then. */
export function demandIn(
  month: string,
  reserved: ForecastInput['reserved'],
  items: PipelineItem[],
): Record<Resource, number> {
  const m = monthIndex(month);
  const growths = items.filter((i) => i.kind === 'growth' && i.goLive <= month && i.growthPctPerMonth);
  let cpu = 0;
  let memory = 0;
  let storage = 0;
  for (const r of reserved) {
    let factor = 1;
    for (const g of growths) {
      if (g.departmentId !== null && g.departmentId !== r.departmentId) continue;
      // Compounded monthly; the first step is taken in the go-live month itself.
      factor *= (1 + (g.growthPctPerMonth ?? 0) / 100) ** (m - monthIndex(g.goLive) + 1);
    }
    cpu += r.cpu * factor;
    memory += r.memoryMb * factor;
    storage += (r.storageMb ?? 0) * factor;
  }
  for (const i of items) {
    if (i.kind === 'growth' || i.goLive > month) continue;
    const slots = i.services * i.instancesPerService;
    cpu += slots * i.cpuPerInstance;
    memory += slots * i.memoryMbPerInstance;
    storage += slots * (i.storageMbPerInstance ?? 0);
  }
  return { cpu, memory, storage };
}

/** The most farms one forecast recommends (the paper's whole platform is 22). */
export const MAX_RECOMMENDED_FARMS = 1000;

const over = (demand: number, capacity: number, target: number) =>
  demand > 0 && demand > target * capacity + 1e-9;

const ratio = (d: number, c: number) => (c > 0 ? d / c : null);

/** The farms' capacity of each resource together. */
function total(farms: { vcpu: number; memoryMb: number; storageMb?: number }[]): Record<Resource, number> {
  const sum: Record<Resource, number> = { cpu: 0, memory: 0, storage: 0 };
  for (const f of farms) for (const r of RESOURCES) sum[r] += capacityOf(f, r);
  return sum;
}

const plus = (a: Record<Resource, number>, b: Record<Resource, number>): Record<Resource, number> => ({
  cpu: a.cpu + b.cpu,
  memory: a.memory + b.memory,
  storage: a.storage + b.storage,
});

export function forecast(input: ForecastInput): Forecast {
  const { target, leadMonths, referenceFarm } = input;
  const first = monthIndex(input.from);
  const runsOut: Record<Resource, string | null> = { cpu: null, memory: null, storage: null };
  const recommendations: Recommendation[] = [];
  const rows: ForecastMonth[] = [];
  // Capacity of the recommended farms from the month each is in service.
  const added: { from: number; vcpu: number; memoryMb: number; storageMb: number }[] = [];

  for (let k = 0; k < input.months; k++) {
    const month = monthOf(first + k);
    const live = input.farms.filter((f) => inService(f, month));
    const capacity = total(live);
    const demand = demandIn(month, input.reserved, input.items);
    const actions: string[] = [];

    for (const f of input.farms) {
      if (f.activeFrom && monthOfDate(f.activeFrom) === month && inService(f, month)) {
        actions.push(`${f.code} in service`);
      }
      if (f.retiredOn && monthOfDate(f.retiredOn) === month) actions.push(`${f.code} retires`);
    }
    const goingLive = input.items.filter((i) => i.kind !== 'growth' && i.goLive === month);
    const newServices = goingLive.reduce((s, i) => s + i.services, 0);
    if (newServices > 0) actions.push(`+${newServices} service${newServices === 1 ? '' : 's'}`);

    for (const r of RESOURCES) {
      if (runsOut[r] === null && over(demand[r], capacity[r], target)) {
        runsOut[r] = month;
        actions.push(`${r} over ${Math.round(target * 100)} %`);
      }
    }

    // Just in time: add reference farms until this month is back under the target.
    const withAdded = () => plus(capacity, total(added.filter((a) => a.from <= first + k)));
    if (referenceFarm) {
      for (;;) {
        const cap = withAdded();
        const short = RESOURCES.find(
          (r) => over(demand[r], cap[r], target) && capacityOf(referenceFarm, r) > 0,
        );
        if (!short) break;
        // Bounded whatever the inputs: past this many farms a plan says nothing more.
        if (added.length >= MAX_RECOMMENDED_FARMS) {
          actions.push(
            `more than ${MAX_RECOMMENDED_FARMS} farms would be needed: no further farms recommended`,
          );
          break;
        }
        const commissionBy = monthOf(first + k - 1);
        const orderBy = addMonths(commissionBy, -leadMonths);
        added.push({
          from: first + k - 1,
          vcpu: referenceFarm.vcpu,
          memoryMb: referenceFarm.memoryMb,
          storageMb: referenceFarm.storageMb ?? 0,
        });
        recommendations.push({
          farm: added.length,
          resource: short,
          neededFor: month,
          commissionBy,
          orderBy,
          late: orderBy < input.from,
        });
      }
    }
    rows.push({
      month,
      farmsActive: live.length,
      cpu: { demand: demand.cpu, capacity: capacity.cpu, utilisation: ratio(demand.cpu, capacity.cpu) },
      memory: {
        demand: demand.memory,
        capacity: capacity.memory,
        utilisation: ratio(demand.memory, capacity.memory),
      },
      storage: {
        demand: demand.storage,
        capacity: capacity.storage,
        utilisation: ratio(demand.storage, capacity.storage),
      },
      // Filled in below: a farm recommended later may be in service from the month before it.
      withRecommended: { farms: 0, cpuUtilisation: null, memoryUtilisation: null, storageUtilisation: null },
      actions,
    });
  }

  rows.forEach((row, k) => {
    const extra = added.filter((a) => a.from <= first + k);
    const cap = plus(
      { cpu: row.cpu.capacity, memory: row.memory.capacity, storage: row.storage.capacity },
      total(extra),
    );
    row.withRecommended = {
      farms: row.farmsActive + extra.length,
      cpuUtilisation: ratio(row.cpu.demand, cap.cpu),
      memoryUtilisation: ratio(row.memory.demand, cap.memory),
      storageUtilisation: ratio(row.storage.demand, cap.storage),
    };
  });

  // Order and commissioning advice goes on the month it falls in (a late order on the first month).
  for (const rec of recommendations) {
    const orderRow = rows.find((r) => r.month === (rec.late ? input.from : rec.orderBy));
    orderRow?.actions.unshift(
      rec.late ? `order new farm ${rec.farm} now (was due ${rec.orderBy})` : `order new farm ${rec.farm}`,
    );
    rows.find((r) => r.month === rec.commissionBy)?.actions.unshift(`commission new farm ${rec.farm}`);
  }

  return { from: input.from, months: rows, target, leadMonths, referenceFarm, runsOut, recommendations };
}

/**
 * The farm to copy when buying the next one: the median active farm (the lower middle one when
 * there are an even number, ordered by memory then vCPU), so one outsized farm does not skew it.
 */
export function medianFarm<T extends { vcpu: number; memoryMb: number }>(farms: T[]): T | null {
  if (farms.length === 0) return null;
  const sorted = [...farms].sort((a, b) => a.memoryMb - b.memoryMb || a.vcpu - b.vcpu);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
}
