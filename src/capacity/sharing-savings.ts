import type { Executor } from '../platform/database.ts';
import { departmentCodes } from '../tenancy/department.logic.ts';
import { spreadOf } from './admission.ts';
import * as demand from './demand.repository.ts';
import { medianFarm } from './forecast.ts';
import { holdings, listFarms, serviceTiers } from './report.repository.ts';
import { type SharingDemand, sharingOutcome } from './sharing-method.ts';

/** What the Finance Committee paper put on each farm a department would have bought alone [13]. */
export const PAPER_FARM_COST_HKD = 3_300_000;

/** Both sides fill farms to this share, no further: the expansion forecast's default target. */
export const SHARING_TARGET = 0.8;

/** A line of the pipeline with no department is the platform's own, counted as one more "department". */
const NO_DEPARTMENT = '(platform)';

/**
 * The savings of sharing on what the platform holds and plans (decision 038): every department's
 * peak demand (reservations now plus the baseline pipeline's service lines, planned services
 * included) placed alone and pooled, on the median active farm (capacity × overcommit) filled to
 * SHARING_TARGET, gold services spread over two farms. Callers authorise; this reads.
 */
export async function sharingSavings(db: Executor) {
  const farms = (await listFarms(db)).filter((f) => f.state === 'active');
  const ref = medianFarm(
    farms.map((f) => ({
      code: f.code,
      vcpu: f.vcpu * f.cpuOvercommit,
      memoryMb: f.memoryMb * f.memoryOvercommit,
      costHkd: f.costHkd,
    })),
  );
  const held = await holdings(db);
  const tiers = await serviceTiers(db);
  const lines = (await demand.forForecast(db, null)).filter((l) => l.kind !== 'growth');
  const codes = await departmentCodes(db, [
    ...held.map((h) => h.departmentId),
    ...lines.flatMap((l) => (l.department_id ? [l.department_id] : [])),
  ]);
  const code = (id: string | null) => (id ? (codes.get(id) ?? id) : NO_DEPARTMENT);

  // A service's reservations, over all its farms, are one demand of its size per instance.
  const perService = new Map<
    string,
    { departmentId: string; slots: number; memoryMb: number; cpu: number }
  >();
  for (const h of held) {
    const s = perService.get(h.serviceId) ?? { departmentId: h.departmentId, slots: 0, memoryMb: 0, cpu: 0 };
    s.slots += h.slots;
    s.memoryMb += h.memoryMb;
    s.cpu += h.cpu;
    perService.set(h.serviceId, s);
  }
  // Spread as admission decides it, as if there were always a second farm to spread to.
  const spread = (tier: string | null | undefined, instances: number) =>
    spreadOf(tier === 'gold' ? 'gold' : 'silver', instances, 2);
  const demands: (SharingDemand & { planned: boolean })[] = [
    ...[...perService.entries()].map(([id, s]) => ({
      department: code(s.departmentId),
      services: 1,
      instances: s.slots,
      memoryMb: s.memoryMb / s.slots,
      cpu: s.cpu / s.slots,
      spread: spread(tiers.get(id), s.slots),
      planned: false,
    })),
    ...lines.map((l) => ({
      department: code(l.department_id),
      services: l.services,
      instances: l.instances_per_service,
      memoryMb: l.memory_mb_per_instance,
      cpu: Number(l.cpu_per_instance),
      spread: spread(l.sla_tier, l.instances_per_service),
      planned: true,
    })),
  ];
  const outcome = ref ? sharingOutcome(ref, SHARING_TARGET, demands) : null;
  const costPerFarmHkd = ref && ref.costHkd > 0 ? ref.costHkd : PAPER_FARM_COST_HKD;
  const count = (dept: string, planned: boolean) =>
    demands.filter((d) => d.department === dept && d.planned === planned).reduce((s, d) => s + d.services, 0);
  return {
    method:
      'peak demand (reservations + planned lines) placed alone per department and pooled, same target and redundancy',
    target: SHARING_TARGET,
    referenceFarm: ref,
    departments: (outcome?.departments ?? []).map((d) => ({
      ...d,
      reservedServices: count(d.department, false),
      plannedServices: count(d.department, true),
    })),
    farmsAlone: outcome?.farmsAlone ?? null,
    farmsShared: outcome?.farmsShared ?? null,
    farmsAvoided: outcome?.farmsAvoided ?? null,
    costPerFarmHkd,
    costBasis: ref && ref.costHkd > 0 ? 'reference farm cost' : 'HK$3.3M a farm, as in the paper',
    costAvoidedHkd: outcome ? outcome.farmsAvoided * costPerFarmHkd : null,
  };
}

export type SharingSavings = Awaited<ReturnType<typeof sharingSavings>>;
