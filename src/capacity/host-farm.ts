import { statfs } from 'node:fs/promises';
import { availableParallelism, hostname, totalmem } from 'node:os';
import { servicesToRun } from '../catalog/release.repository.ts';
import { findById } from '../catalog/service.repository.ts';
import type { Db, Executor } from '../platform/database.ts';
import {
  activeFarms,
  type Demand,
  lockAdmission,
  releaseCapacity,
  reserveSlots,
  runningDemand,
  spreadOf,
} from './admission.ts';
import * as repo from './farm.repository.ts';
import { type FarmFree, placeSlots } from './placement.ts';

export const LOCAL_FARM_CODE = 'local';

/**
 * An instance's CPU is a cap (its cgroup quota), not a core of its own, and web services mostly
 * wait on the network; so the host's CPUs start overcommitted, at the top of the range the
 * suggestion works in, and an operator lowers it when measured use says so. Memory is not
 * overcommitted: an instance over its memory is killed, not slowed.
 */
export const LOCAL_CPU_OVERCOMMIT = 4;

/**
 * Watts when nothing is measured: a guess for a typical server, per logical CPU over a base,
 * written into the farm's name so nobody takes it for a measurement.
 */
export const estimateWatts = (vcpu: number) => ({
  idle: Math.round(60 + 1.5 * vcpu),
  max: Math.round(60 + 1.5 * vcpu + 8 * vcpu),
});

/** What this machine has: its logical CPUs, its memory, and the disk holding the data folder. */
export async function hostCapacity(dataDir: string) {
  const fs = await statfs(dataDir);
  return {
    vcpu: availableParallelism(),
    memoryMb: Math.floor(totalmem() / 1024 / 1024),
    storageGb: Math.floor((fs.blocks * fs.bsize) / 1024 ** 3),
  };
}

/**
 * Registers the host the local runtime runs on as the active farm `local`, or brings its
 * capacity up to date. What an operator set (name, watts, cost, overcommit) is kept.
 */
export async function registerLocalFarm(db: Db, dataDir: string) {
  const cap = await hostCapacity(dataDir);
  const watts = estimateWatts(cap.vcpu);
  await db.transaction().execute(async (trx) => {
    const existing = (await repo.findLocalFarm(trx)) ?? (await repo.findFarm(trx, LOCAL_FARM_CODE));
    if (!existing) {
      await repo.insertFarm(trx, {
        code: LOCAL_FARM_CODE,
        name: `${hostname()} (this host; watts are estimates, not measured)`,
        vcpu: cap.vcpu,
        memory_mb: cap.memoryMb,
        storage_gb: cap.storageGb,
        idle_watts: watts.idle,
        max_watts: watts.max,
        cost_hkd: 0,
        phase: 1,
        state: 'active',
        ordered_on: null,
        active_from: new Date().toISOString().slice(0, 10),
        retired_on: null,
        cpu_overcommit: LOCAL_CPU_OVERCOMMIT,
        memory_overcommit: 1,
        is_local: true,
      });
      return;
    }
    await repo.updateFarm(trx, existing.id, {
      vcpu: cap.vcpu,
      memory_mb: cap.memoryMb,
      storage_gb: cap.storageGb,
      state: 'active',
      is_local: true,
      active_from: existing.active_from ?? new Date().toISOString().slice(0, 10),
      retired_on: null,
    });
  });
  return { ...cap, watts };
}

/** What a service holds: its slots and the size of each (every slot of a service has the same). */
interface Held {
  slots: number;
  memoryMb: number;
  cpu: number;
  storageMb: number;
}

/** What each service holds now (or only `serviceId`). */
async function heldBy(trx: Executor, serviceId?: string): Promise<Map<string, Held>> {
  let q = trx.selectFrom('reservations');
  if (serviceId) q = q.where('service_id', '=', serviceId);
  const held = new Map<string, Held>();
  for (const r of await q
    .select((eb) => [
      'service_id',
      eb.fn.countAll<string>().as('n'),
      eb.fn.max('memory_mb').as('mem'),
      eb.fn.max('cpu').as('cpu'),
      eb.fn.max('storage_mb').as('storage'),
    ])
    .groupBy('service_id')
    .execute()) {
    held.set(r.service_id, {
      slots: Number(r.n),
      memoryMb: Number(r.mem),
      cpu: Number(r.cpu),
      storageMb: Number(r.storage),
    });
  }
  return held;
}

/**
 * Gives a running service the reservations `d` asks for, never refusing: its slots stay where
 * they are when they already match; otherwise it is placed again, and where no farm has room its
 * slots go to the local farm beyond its capacity (the farm then shows as over-reserved), because
 * the service already runs. `farms` is kept up to date for the next service.
 */
async function holdRunning(
  trx: Executor,
  farms: FarmFree[],
  d: Demand & { serviceId: string },
  has: Held | undefined,
): Promise<{ added: number; overbooked: number }> {
  if (
    has &&
    has.slots === d.instances &&
    has.memoryMb === d.memoryMb &&
    has.cpu === d.cpu &&
    has.storageMb === d.storageMb
  ) {
    return { added: 0, overbooked: 0 };
  }
  if (has) {
    // Its old slots no longer count against the farms while it is placed again.
    const old = await trx
      .selectFrom('reservations')
      .select(['farm_id', 'memory_mb', 'cpu', 'storage_mb'])
      .where('service_id', '=', d.serviceId)
      .execute();
    for (const o of old) {
      const f = farms.find((x) => x.id === o.farm_id);
      if (f) {
        f.usedMemoryMb -= o.memory_mb;
        f.usedCpu -= Number(o.cpu);
        f.usedStorageMb = (f.usedStorageMb ?? 0) - o.storage_mb;
      }
    }
  }
  const need = {
    instances: d.instances,
    memoryMb: d.memoryMb,
    cpu: d.cpu,
    storageMb: d.storageMb,
    spread: spreadOf(d.tier, d.instances, farms.length),
  };
  const placed = placeSlots(farms, need);
  if (placed.ok) {
    await reserveSlots(trx, d, placed.farms);
    return { added: d.instances, overbooked: 0 };
  }
  const fallback = (await repo.findLocalFarm(trx)) ?? (await repo.listFarms(trx, 'active'))[0];
  if (!fallback) {
    // No active farm at all: nothing to reserve on.
    await releaseCapacity(trx, d.serviceId);
    return { added: 0, overbooked: 0 };
  }
  const f = farms.find((x) => x.id === fallback.id);
  if (f) {
    f.usedMemoryMb += d.instances * d.memoryMb;
    f.usedCpu += d.instances * d.cpu;
    f.usedStorageMb = (f.usedStorageMb ?? 0) + d.instances * d.storageMb;
  }
  const onFallback = Array.from({ length: d.instances }, () => fallback.id);
  await reserveSlots(trx, d, onFallback);
  return { added: d.instances, overbooked: d.instances };
}

/**
 * Gives every service that runs the reservations its size needs, and takes them from services
 * that run nothing: services deployed before capacity (or storage) was tracked, or changed while
 * it was not. A running service is never refused here (see `holdRunning`).
 */
export async function reconcileReservations(
  db: Db,
): Promise<{ added: number; released: number; overbooked: number }> {
  return db.transaction().execute(async (trx) => {
    await lockAdmission(trx);
    const running = await heldBy(trx);
    const farms: FarmFree[] = await activeFarms(trx, null);
    let added = 0;
    let overbooked = 0;
    const keep = new Set<string>();
    for (const svc of await servicesToRun(trx)) {
      const d = await runningDemand(trx, svc);
      if (!d) continue;
      keep.add(svc.id);
      const r = await holdRunning(trx, farms, d, running.get(svc.id));
      added += r.added;
      overbooked += r.overbooked;
    }
    let released = 0;
    for (const id of running.keys()) {
      if (keep.has(id)) continue;
      const r = await trx.deleteFrom('reservations').where('service_id', '=', id).executeTakeFirst();
      released += Number(r.numDeletedRows);
    }
    return { added, released, overbooked };
  });
}

/**
 * Brings one service's reservations to what it runs now, never refusing: its current release at
 * its size, or nothing when nothing runs. For a rollout that failed: the capacity admitted for the
 * release that never became healthy goes back, and the previous release (still serving) keeps
 * exactly what it needs. Takes the admission lock in the caller's transaction.
 */
export async function settleReservations(trx: Executor, serviceId: string): Promise<void> {
  await lockAdmission(trx);
  const svc = await findById(trx, serviceId);
  const d = svc ? await runningDemand(trx, svc) : null;
  if (!d) {
    await releaseCapacity(trx, serviceId);
    return;
  }
  await holdRunning(trx, await activeFarms(trx, null), d, (await heldBy(trx, serviceId)).get(serviceId));
}
