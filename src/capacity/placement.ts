/**
 * Where instances go: a pure function over farms' free capacity, so the same rules serve a
 * single deploy (admission) and a whole workload (the planner and the benchmark).
 *
 * Rules: best fit (the farm that is fullest after taking the slot, judged on its scarcer
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
}

export interface SlotNeed {
  instances: number;
  memoryMb: number;
  cpu: number;
  /** Distinct farms the first instances must use (1: no spread). */
  spread: number;
}

export type PlaceResult = { ok: true; farms: string[] } | { ok: false; reason: string };

const fits = (f: FarmFree, memoryMb: number, cpu: number) =>
  f.usedMemoryMb + memoryMb <= f.memoryMb + 1e-9 && f.usedCpu + cpu <= f.cpu + 1e-9;

/** Fullness after taking the slot, on the farm's scarcer resource. */
const fullnessAfter = (f: FarmFree, memoryMb: number, cpu: number) =>
  Math.max((f.usedMemoryMb + memoryMb) / f.memoryMb, (f.usedCpu + cpu) / f.cpu);

/**
 * Chooses a farm for each instance, updating `farms`' used figures in place only on success
 * (so a failed placement leaves them as they were). Returns farm ids, one per instance.
 */
export function placeSlots(farms: FarmFree[], need: SlotNeed): PlaceResult {
  const tentative = farms.map((f) => ({ ...f }));
  const chosen: string[] = [];
  const usedByThis = new Set<string>();
  for (let slot = 0; slot < need.instances; slot++) {
    const mustDiffer = slot < need.spread;
    let best: (typeof tentative)[number] | null = null;
    let bestScore = -1;
    for (const f of tentative) {
      if (mustDiffer && usedByThis.has(f.id)) continue;
      if (!fits(f, need.memoryMb, need.cpu)) continue;
      const score = fullnessAfter(f, need.memoryMb, need.cpu);
      if (score > bestScore) {
        best = f;
        bestScore = score;
      }
    }
    if (!best) {
      const reason = mustDiffer
        ? `no farm left to hold instance ${slot + 1} of ${need.instances} apart from the others (${need.memoryMb} MB, ${need.cpu} CPU each; the service must be spread over ${need.spread} farms)`
        : `no active farm has ${need.memoryMb} MB of memory and ${need.cpu} CPU free for instance ${slot + 1} of ${need.instances}`;
      return { ok: false, reason };
    }
    best.usedMemoryMb += need.memoryMb;
    best.usedCpu += need.cpu;
    usedByThis.add(best.id);
    chosen.push(best.id);
  }
  for (const f of farms) {
    const t = tentative.find((x) => x.id === f.id);
    if (t) {
      f.usedMemoryMb = t.usedMemoryMb;
      f.usedCpu = t.usedCpu;
    }
  }
  return { ok: true, farms: chosen };
}
