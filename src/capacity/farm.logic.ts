import { recordChange } from '../audit/audit.logic.ts';
import { recentUsageByService, type ServiceUsage } from '../monitoring/metrics.repository.ts';
import type { Db } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import { auditContext, authorize, type Caller, type Principal } from '../tenancy/principal.ts';
import type { FarmState } from './capacity.tables.ts';
import * as repo from './farm.repository.ts';

/** Which state a farm may move to from each: bought, commissioned, retired; planned or ordered ones may be dropped. */
const TRANSITIONS: Record<FarmState, FarmState[]> = {
  planned: ['ordered', 'retired'],
  ordered: ['active', 'retired'],
  active: ['retired'],
  retired: [],
};

/** Measured use is read over this window. */
export const USAGE_WINDOW_MS = 60 * 60 * 1000;
/** Room left above the 95th percentile of measured use before overcommit is suggested. */
export const HEADROOM = 1.25;
export const OVERCOMMIT_RANGE = [1, 4] as const;

export interface Farm {
  code: string;
  name: string;
  state: FarmState;
  phase: number;
  isLocal: boolean;
  capacity: { vcpu: number; memoryMb: number; storageGb: number };
  overcommit: { cpu: number; memory: number };
  /** Capacity times overcommit: what reservations may add up to. */
  reservable: { cpu: number; memoryMb: number };
  reserved: { instances: number; services: number; cpu: number; memoryMb: number; storageMb: number };
  /** Measured over the last hour; null when none of its services has measurements. */
  used: { cpu: number; memoryMb: number; measuredServices: number } | null;
  suggestedOvercommit: { cpu: number; memory: number; basis: string } | null;
  idleWatts: number;
  maxWatts: number;
  costHkd: number;
  orderedOn: string | null;
  activeFrom: string | null;
  retiredOn: string | null;
  createdAt: string;
  updatedAt: string;
}

const round = (x: number, step: number) => Math.round(x / step) * step;
const clamp = (x: number) => Math.min(OVERCOMMIT_RANGE[1], Math.max(OVERCOMMIT_RANGE[0], x));

/**
 * The overcommit a farm could take: what its measured services reserve over what they use at
 * their 95th percentile minute with 25 % headroom, clamped to 1–4 and rounded to 0.1. Per-service
 * percentiles are summed, which over-states the farm's own percentile (peaks rarely coincide), so
 * the advice errs on the safe side.
 */
export function suggestOvercommit(
  reserved: { cpu: number; memoryMb: number },
  p95: { cpu: number; memoryMb: number },
) {
  const ratio = (r: number, u: number) => (u <= 0 ? OVERCOMMIT_RANGE[1] : clamp(r / (u * HEADROOM)));
  return {
    cpu: round(ratio(reserved.cpu, p95.cpu), 0.1),
    memory: round(ratio(reserved.memoryMb, p95.memoryMb), 0.1),
  };
}

async function presentAll(db: Db, rows: repo.FarmRow[]): Promise<Farm[]> {
  const holdings = await repo.reservationsByFarmAndService(db);
  const slotsOf = new Map<string, number>();
  for (const h of holdings) slotsOf.set(h.serviceId, (slotsOf.get(h.serviceId) ?? 0) + h.slots);
  const usage = await recentUsageByService(db, [...slotsOf.keys()], new Date(Date.now() - USAGE_WINDOW_MS));
  return rows.map((f) => {
    const mine = holdings.filter((h) => h.farmId === f.id);
    const reserved = { instances: 0, services: mine.length, cpu: 0, memoryMb: 0, storageMb: 0 };
    const measuredReserved = { cpu: 0, memoryMb: 0 };
    const used = { cpu: 0, memoryMb: 0, measuredServices: 0 };
    const p95 = { cpu: 0, memoryMb: 0 };
    for (const h of mine) {
      reserved.instances += h.slots;
      reserved.cpu += h.cpu;
      reserved.memoryMb += h.memoryMb;
      reserved.storageMb += h.storageMb;
      const u: ServiceUsage | undefined = usage.get(h.serviceId);
      if (!u) continue;
      // A service spread over farms is counted here for the share of its slots this farm holds.
      const share = h.slots / (slotsOf.get(h.serviceId) ?? h.slots);
      used.measuredServices++;
      used.cpu += u.cpuAvg * share;
      used.memoryMb += u.memoryMaxMb * share;
      p95.cpu += u.cpuP95 * share;
      p95.memoryMb += u.memoryP95Mb * share;
      measuredReserved.cpu += h.cpu;
      measuredReserved.memoryMb += h.memoryMb;
    }
    const measured = used.measuredServices > 0;
    return {
      code: f.code,
      name: f.name,
      state: f.state,
      phase: f.phase,
      isLocal: f.is_local,
      capacity: { vcpu: f.vcpu, memoryMb: f.memory_mb, storageGb: f.storage_gb },
      overcommit: { cpu: f.cpu_overcommit, memory: f.memory_overcommit },
      reservable: { cpu: f.vcpu * f.cpu_overcommit, memoryMb: Math.floor(f.memory_mb * f.memory_overcommit) },
      reserved: { ...reserved, cpu: round(reserved.cpu, 0.001) },
      used: measured
        ? {
            cpu: round(used.cpu, 0.001),
            memoryMb: Math.round(used.memoryMb),
            measuredServices: used.measuredServices,
          }
        : null,
      suggestedOvercommit: measured
        ? {
            ...suggestOvercommit(measuredReserved, p95),
            basis: `reserved ÷ (95th-percentile minute of measured use in the last hour × ${HEADROOM} headroom), clamped to ${OVERCOMMIT_RANGE[0]}–${OVERCOMMIT_RANGE[1]}; from ${used.measuredServices} of ${mine.length} services with measurements`,
          }
        : null,
      idleWatts: f.idle_watts,
      maxWatts: f.max_watts,
      costHkd: f.cost_hkd,
      orderedOn: f.ordered_on,
      activeFrom: f.active_from,
      retiredOn: f.retired_on,
      createdAt: f.created_at.toISOString(),
      updatedAt: f.updated_at.toISOString(),
    };
  });
}

const notFound = (code: string) => new DomainError('GOVHOST_FARM_NOT_FOUND', `no farm ${code}`);

export async function listFarms(db: Db, caller: Principal, state?: FarmState): Promise<Farm[]> {
  authorize(caller, 'capacity:read');
  return presentAll(db, await repo.listFarms(db, state));
}

export async function getFarm(db: Db, caller: Principal, code: string): Promise<Farm> {
  authorize(caller, 'capacity:read');
  const row = await repo.findFarm(db, code);
  if (!row) throw notFound(code);
  return (await presentAll(db, [row]))[0] as Farm;
}

export interface NewFarm {
  code: string;
  name?: string;
  vcpu: number;
  memoryMb: number;
  storageGb: number;
  idleWatts: number;
  maxWatts: number;
  costHkd?: number;
  phase?: number;
  state?: FarmState;
  orderedOn?: string | null;
  activeFrom?: string | null;
  retiredOn?: string | null;
  cpuOvercommit?: number;
  memoryOvercommit?: number;
}

export type FarmPatch = Partial<Omit<NewFarm, 'code'>>;

function checkWatts(idle: number, max: number) {
  if (max < idle) {
    throw new DomainError('GOVHOST_VALIDATION', `maxWatts (${max}) must be at least idleWatts (${idle})`, {
      errors: [{ field: '/maxWatts', message: 'must be at least idleWatts' }],
    });
  }
}

/** A state's date, when the caller did not give it: today. */
const today = () => new Date().toISOString().slice(0, 10);

export async function createFarm(db: Db, caller: Caller, input: NewFarm): Promise<Farm> {
  authorize(caller, 'capacity:write');
  checkWatts(input.idleWatts, input.maxWatts);
  const state = input.state ?? 'planned';
  if (state === 'retired') {
    throw new DomainError('GOVHOST_FARM_STATE', 'a new farm cannot start retired');
  }
  try {
    const row = await db.transaction().execute(async (trx) => {
      await repo.insertFarm(trx, {
        code: input.code,
        name: input.name ?? input.code,
        vcpu: input.vcpu,
        memory_mb: input.memoryMb,
        storage_gb: input.storageGb,
        idle_watts: input.idleWatts,
        max_watts: input.maxWatts,
        cost_hkd: input.costHkd ?? 0,
        phase: input.phase ?? 1,
        state,
        ordered_on: input.orderedOn ?? (state === 'ordered' || state === 'active' ? today() : null),
        active_from: input.activeFrom ?? (state === 'active' ? today() : null),
        retired_on: input.retiredOn ?? null,
        cpu_overcommit: input.cpuOvercommit ?? 1,
        memory_overcommit: input.memoryOvercommit ?? 1,
        is_local: false,
      });
      const created = (await repo.findFarm(trx, input.code)) as repo.FarmRow;
      await recordChange(trx, auditContext(caller), {
        action: 'farm.create',
        targetType: 'farm',
        targetId: input.code,
        departmentId: null,
        after: created,
      });
      return created;
    });
    return (await presentAll(db, [row]))[0] as Farm;
  } catch (err) {
    if (isUniqueViolation(err)) throw new DomainError('GOVHOST_FARM_EXISTS', `farm ${input.code} exists`);
    throw err;
  }
}

export async function updateFarm(db: Db, caller: Caller, code: string, patch: FarmPatch): Promise<Farm> {
  authorize(caller, 'capacity:write');
  const row = await db.transaction().execute(async (trx) => {
    const before = await repo.findFarm(trx, code);
    if (!before) throw notFound(code);
    checkWatts(patch.idleWatts ?? before.idle_watts, patch.maxWatts ?? before.max_watts);
    const values: Partial<repo.FarmValues> = {
      name: patch.name,
      vcpu: patch.vcpu,
      memory_mb: patch.memoryMb,
      storage_gb: patch.storageGb,
      idle_watts: patch.idleWatts,
      max_watts: patch.maxWatts,
      cost_hkd: patch.costHkd,
      phase: patch.phase,
      ordered_on: patch.orderedOn,
      active_from: patch.activeFrom,
      retired_on: patch.retiredOn,
      cpu_overcommit: patch.cpuOvercommit,
      memory_overcommit: patch.memoryOvercommit,
    };
    if (patch.state && patch.state !== before.state) {
      const allowed = TRANSITIONS[before.state];
      if (!allowed.includes(patch.state)) {
        throw new DomainError(
          'GOVHOST_FARM_STATE',
          `a ${before.state} farm cannot become ${patch.state} (allowed: ${allowed.join(', ') || 'none'})`,
        );
      }
      if (before.is_local && patch.state === 'retired') {
        throw new DomainError(
          'GOVHOST_FARM_STATE',
          'the local farm is the host the platform runs on; it cannot be retired',
        );
      }
      if (patch.state === 'retired') {
        const held = await repo.countReservations(trx, before.id);
        if (held.slots > 0) {
          throw new DomainError(
            'GOVHOST_FARM_IN_USE',
            `farm ${code} holds ${held.slots} reservation${held.slots === 1 ? '' : 's'} of ${held.services} service${held.services === 1 ? '' : 's'}; move or release them before retiring it`,
          );
        }
      }
      values.state = patch.state;
      // The date of the new state, unless given (e.g. as it really happened).
      if (patch.state === 'ordered') values.ordered_on = patch.orderedOn ?? today();
      if (patch.state === 'active') values.active_from = patch.activeFrom ?? today();
      if (patch.state === 'retired') values.retired_on = patch.retiredOn ?? today();
    }
    const defined = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    if (Object.keys(defined).length === 0) return before;
    await repo.updateFarm(trx, before.id, defined);
    const after = (await repo.findFarm(trx, code)) as repo.FarmRow;
    await recordChange(trx, auditContext(caller), {
      action: 'farm.update',
      targetType: 'farm',
      targetId: code,
      departmentId: null,
      before,
      after,
    });
    return after;
  });
  return (await presentAll(db, [row]))[0] as Farm;
}
