/**
 * Where instances go: a pure function over farms' free capacity, so the same rules serve a
 * single deploy (admission) and a whole workload (the planner and the benchmark).
 *
 * Rules: best fit (the farm that is fullest after taking the slot, judged on its scarcest
 * resource), which packs reservations tightly and leaves whole farms free for large demands;
 * and for a spread service, its first `spread` instances on distinct farms, so that losing one
 * farm never takes the whole service down.
 */

export interface FarmFree {
  id: string;
  code: string;
  /** Capacity after overcommit. */
  memoryMb: number;
  cpu: number;
  /** Already reserved. */
  usedMemoryMb: number;
  usedCpu: number;
  /** Storage, MiB, when the farm's storage is tracked (a plan may leave it out: no limit). */
  storageMb?: number;
  usedStorageMb?: number;
}

export interface SlotNeed {
  instances: number;
  memoryMb: number;
  cpu: number;
  /** Disk per instance, MiB (none when absent). */
  storageMb?: number;
  /** Distinct farms the first instances must use (1: no spread). */
  spread: number;
}

export type PlaceResult = { ok: true; farms: string[] } | { ok: false; reason: string };

const storageFits = (f: FarmFree, storageMb: number) =>
  storageMb <= 0 || f.storageMb === undefined || (f.usedStorageMb ?? 0) + storageMb <= f.storageMb + 1e-9;

const fits = (f: FarmFree, need: SlotNeed) =>
  f.usedMemoryMb + need.memoryMb <= f.memoryMb + 1e-9 &&
  f.usedCpu + need.cpu <= f.cpu + 1e-9 &&
  storageFits(f, need.storageMb ?? 0);

/** Fullness after taking the slot, on the farm's scarcest resource. */
function fullnessAfter(f: FarmFree, need: SlotNeed): number {
  const byMemoryOrCpu = Math.max(
    (f.usedMemoryMb + need.memoryMb) / f.memoryMb,
    (f.usedCpu + need.cpu) / f.cpu,
  );
  if (!f.storageMb) return byMemoryOrCpu;
  return Math.max(byMemoryOrCpu, ((f.usedStorageMb ?? 0) + (need.storageMb ?? 0)) / f.storageMb);
}

/** Takes (or with -1 gives back) one slot of `need` on the farm. */
function take(f: FarmFree, need: SlotNeed, sign: 1 | -1) {
  f.usedMemoryMb += sign * need.memoryMb;
  f.usedCpu += sign * need.cpu;
  if (f.storageMb !== undefined) f.usedStorageMb = (f.usedStorageMb ?? 0) + sign * (need.storageMb ?? 0);
}

/**
 * Chooses a farm for each instance, updating `farms`' used figures in place only on success
 * (so a failed placement leaves them as they were). Returns farm ids, one per instance.
 *
 * One pass over the farms per instance and no copy of them: a failure undoes the few slots it
 * took, which keeps a whole workload (tens of thousands of slots) to a fraction of a second.
 */
export function placeSlots(farms: FarmFree[], need: SlotNeed): PlaceResult {
  const taken: FarmFree[] = [];
  const usedByThis = new Set<FarmFree>();
  const undo = () => {
    for (const f of taken) take(f, need, -1);
  };
  for (let slot = 0; slot < need.instances; slot++) {
    const mustDiffer = need.spread > 1 && slot < need.spread;
    let best: FarmFree | null = null;
    let bestScore = -1;
    for (const f of farms) {
      if (mustDiffer && usedByThis.has(f)) continue;
      if (!fits(f, need)) continue;
      const score = fullnessAfter(f, need);
      if (score > bestScore) {
        best = f;
        bestScore = score;
      }
    }
    if (!best) {
      undo();
      const disk = need.storageMb ? `, ${need.storageMb} MB of storage` : '';
      const reason = mustDiffer
        ? `no farm left to hold instance ${slot + 1} of ${need.instances} apart from the others (${need.memoryMb} MB, ${need.cpu} CPU${disk} each; the service must be spread over ${need.spread} farms)`
        : `no active farm has ${need.memoryMb} MB of memory${need.storageMb ? ',' : ' and'} ${need.cpu} CPU${disk ? ` and ${need.storageMb} MB of storage` : ''} free for instance ${slot + 1} of ${need.instances}`;
      return { ok: false, reason };
    }
    take(best, need, 1);
    usedByThis.add(best);
    taken.push(best);
  }
  return { ok: true, farms: taken.map((f) => f.id) };
}

/** One service of a workload to place: its slots and a key to find its result by. */
export interface WorkloadDemand extends SlotNeed {
  key: string;
}

export interface PlaceAllResult {
  /** Farm ids per instance, by demand key; absent for a demand that did not fit. */
  placed: Map<string, string[]>;
  /** Demands that did not fit, with why, in the order they were tried. */
  failed: { key: string; reason: string }[];
  /** Farms holding at least one slot after placement. */
  farmsUsed: number;
}

/**
 * Places a whole workload at once by best-fit decreasing: the largest demands first (an
 * instance's size on the scarcer resource of the largest farm), each by `placeSlots`' own rules,
 * so that a plan and the admission of the same services agree. The farms' used figures are
 * updated in place, as if every placed demand had been admitted.
 *
 * Two resources make plain decreasing order waste capacity: memory-heavy services first fill
 * farms' memory and leave their CPU idle, and the CPU-heavy ones then fill new farms' CPU. So the
 * memory-heavy and the CPU-heavy lists (each largest first) are merged, taking next from whichever
 * keeps the running totals of memory and CPU (as shares of a farm) level; each farm then fills
 * with a mix that uses both.
 */
export function placeAll(farms: FarmFree[], demands: WorkloadDemand[]): PlaceAllResult {
  const maxMem = Math.max(1, ...farms.map((f) => f.memoryMb));
  const maxCpu = Math.max(1e-9, ...farms.map((f) => f.cpu));
  const size = (d: WorkloadDemand) => Math.max(d.memoryMb / maxMem, d.cpu / maxCpu);
  const decreasing = (a: WorkloadDemand, b: WorkloadDemand) =>
    size(b) - size(a) || b.instances - a.instances || b.spread - a.spread;
  const memHeavy = demands.filter((d) => d.memoryMb / maxMem >= d.cpu / maxCpu).sort(decreasing);
  const cpuHeavy = demands.filter((d) => d.memoryMb / maxMem < d.cpu / maxCpu).sort(decreasing);
  const placed = new Map<string, string[]>();
  const failed: { key: string; reason: string }[] = [];
  let lean = 0; // memory minus CPU placed so far, in shares of a farm
  let m = 0;
  let c = 0;
  while (m < memHeavy.length || c < cpuHeavy.length) {
    const takeMem = c >= cpuHeavy.length || (m < memHeavy.length && lean <= 0);
    const d = (takeMem ? memHeavy[m++] : cpuHeavy[c++]) as WorkloadDemand;
    const r = placeSlots(farms, d);
    if (r.ok) {
      placed.set(d.key, r.farms);
      lean += (d.instances * d.memoryMb) / maxMem - (d.instances * d.cpu) / maxCpu;
    } else failed.push({ key: d.key, reason: r.reason });
  }
  const farmsUsed = farms.filter((f) => f.usedMemoryMb > 1e-9 || f.usedCpu > 1e-9).length;
  return { placed, failed, farmsUsed };
}

/**
 * The fewest farms of one size that could hold the demand even if slots could be cut freely:
 * the total demand over one farm's capacity, on whichever resource binds.
 */
export function farmsLowerBound(
  farm: { memoryMb: number; cpu: number },
  demands: { instances: number; memoryMb: number; cpu: number }[],
): { farms: number; binding: 'memory' | 'cpu' } {
  let mem = 0;
  let cpu = 0;
  for (const d of demands) {
    mem += d.instances * d.memoryMb;
    cpu += d.instances * d.cpu;
  }
  const byMem = Math.ceil(mem / farm.memoryMb - 1e-9);
  const byCpu = Math.ceil(cpu / farm.cpu - 1e-9);
  return byMem >= byCpu ? { farms: byMem, binding: 'memory' } : { farms: byCpu, binding: 'cpu' };
}
