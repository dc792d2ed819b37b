import { type FarmFree, placeAll, type WorkloadDemand } from './placement.ts';

/**
 * The savings of sharing, as one method that the capacity sharing report and finance both use
 * (issue 18, decision 038): the farms each department would need on its own against the farms
 * the shared platform needs, for the same demand, on farms of the same reference size.
 *
 * Demand is each department's peak: what it reserves today plus every planned line of the demand
 * pipeline (planned services included). Both sides keep the same headroom (no farm filled past
 * the target utilisation) and the same redundancy (a spread service on two farms at least), and
 * both are placed by the platform's own placement (best-fit decreasing), on as many empty farms
 * as it takes. The difference is then what sharing saves: departments alone each round up to
 * whole farms and each hold two farms for a redundant service; pooled, they fill each other's gaps.
 */

/** A group of alike slots of one department: a service's reservations or a pipeline line. */
export interface SharingDemand {
  department: string;
  /** Services of this size: each places `instances` slots with its own spread. */
  services: number;
  instances: number;
  memoryMb: number;
  cpu: number;
  /** Distinct farms its first instances need (2 for a redundant service, else 1). */
  spread: number;
}

export interface SharingFarm {
  memoryMb: number;
  vcpu: number;
}

export interface SharingOutcome {
  /** Farms each department would need alone, by department, sorted by code. */
  departments: { department: string; services: number; memoryMb: number; cpu: number; farmsAlone: number }[];
  farmsAlone: number;
  farmsShared: number;
  /** farmsAlone − farmsShared: never negative, since the pooled demand can always take the departments' own farms. */
  farmsAvoided: number;
}

/** Fewest empty farms of `farm`'s size (filled to `target`) that hold every demand by placement. */
export function farmsNeeded(farm: SharingFarm, target: number, demands: SharingDemand[]): number {
  const cap = { memoryMb: farm.memoryMb * target, cpu: farm.vcpu * target };
  const slots: WorkloadDemand[] = demands.flatMap((d, i) =>
    Array.from({ length: d.services }, (_, s) => ({
      key: `${i}:${s}`,
      instances: d.instances,
      memoryMb: d.memoryMb,
      cpu: d.cpu,
      spread: d.spread,
    })),
  );
  // An instance larger than a farm's target share takes farms of its own, alone or shared alike.
  const oversize = (s: WorkloadDemand) => s.memoryMb > cap.memoryMb + 1e-9 || s.cpu > cap.cpu + 1e-9;
  const own = slots
    .filter(oversize)
    .reduce(
      (n, s) =>
        n +
        s.instances *
          Math.max(1, Math.ceil(s.memoryMb / farm.memoryMb - 1e-9), Math.ceil(s.cpu / farm.vcpu - 1e-9)),
      0,
    );
  const total = slots.filter((s) => s.instances > 0 && !oversize(s));
  if (total.length === 0) return own;
  let mem = 0;
  let cpu = 0;
  let spread = 1;
  for (const s of total) {
    mem += s.instances * s.memoryMb;
    cpu += s.instances * s.cpu;
    spread = Math.max(spread, Math.min(s.spread, s.instances));
  }
  // From the lower bound up: placement on n empty farms either fits all or needs more.
  let n = Math.max(spread, Math.ceil(mem / cap.memoryMb - 1e-9), Math.ceil(cpu / cap.cpu - 1e-9));
  for (;;) {
    const farms: FarmFree[] = Array.from({ length: n }, (_, i) => ({
      id: String(i),
      code: String(i),
      memoryMb: cap.memoryMb,
      cpu: cap.cpu,
      usedMemoryMb: 0,
      usedCpu: 0,
    }));
    if (placeAll(farms, total).failed.length === 0) return n + own;
    n++;
  }
}

/** Farms alone per department and farms shared, for the same demand and the same rules. */
export function sharingOutcome(farm: SharingFarm, target: number, demands: SharingDemand[]): SharingOutcome {
  const byDept = new Map<string, SharingDemand[]>();
  for (const d of demands) byDept.set(d.department, [...(byDept.get(d.department) ?? []), d]);
  const departments = [...byDept.entries()]
    .map(([department, ds]) => ({
      department,
      services: ds.reduce((s, d) => s + d.services, 0),
      memoryMb: ds.reduce((s, d) => s + d.services * d.instances * d.memoryMb, 0),
      cpu: ds.reduce((s, d) => s + d.services * d.instances * d.cpu, 0),
      farmsAlone: farmsNeeded(farm, target, ds),
    }))
    .sort((a, b) => a.department.localeCompare(b.department));
  const farmsAlone = departments.reduce((s, d) => s + d.farmsAlone, 0);
  const farmsShared = farmsNeeded(farm, target, demands);
  return { departments, farmsAlone, farmsShared, farmsAvoided: farmsAlone - farmsShared };
}
