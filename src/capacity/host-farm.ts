import { statfs } from 'node:fs/promises';
import { availableParallelism, hostname, totalmem } from 'node:os';
import { getRelease, servicesToRun } from '../catalog/release.repository.ts';
import type { Db } from '../platform/database.ts';
import { INSTANCE_CPU } from '../runtime/runtime.types.ts';
import { activeFarms, lockAdmission, serviceDemand } from './admission.ts';
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

/**
 * Gives every service that runs the reservations its size needs, and takes them from services
 * that run nothing: services deployed before capacity was tracked, or changed while it was not.
 * A running service is never refused here: where no farm has room, its slots go to the local
 * farm beyond its capacity (the farm then shows as over-reserved), because it already runs.
 */
export async function reconcileReservations(
  db: Db,
): Promise<{ added: number; released: number; overbooked: number }> {
  return db.transaction().execute(async (trx) => {
    await lockAdmission(trx);
    const running = new Map<string, { slots: number; memoryMb: number; cpu: number }>();
    for (const r of await trx
      .selectFrom('reservations')
      .select((eb) => [
        'service_id',
        eb.fn.countAll<string>().as('n'),
        eb.fn.max('memory_mb').as('mem'),
        eb.fn.max('cpu').as('cpu'),
      ])
      .groupBy('service_id')
      .execute()) {
      running.set(r.service_id, { slots: Number(r.n), memoryMb: Number(r.mem), cpu: Number(r.cpu) });
    }
    const farms: FarmFree[] = await activeFarms(trx, null);
    const local = await repo.findLocalFarm(trx);
    let added = 0;
    let overbooked = 0;
    const keep = new Set<string>();
    for (const svc of await servicesToRun(trx)) {
      if (svc.lifecycle !== 'active' && svc.lifecycle !== 'planned') continue;
      const release = await getRelease(trx, svc.current_release_id as string);
      if (!release) continue;
      const d = serviceDemand(svc, {
        instances: svc.instances,
        memoryMb: svc.memory_mb,
        cpu: INSTANCE_CPU,
        runsProcesses: release.kind === 'process',
      });
      if (d.instances === 0) continue;
      keep.add(svc.id);
      const has = running.get(svc.id);
      if (has && has.slots === d.instances && has.memoryMb === d.memoryMb && has.cpu === d.cpu) continue;
      if (has) {
        // Its old slots no longer count against the farms while it is placed again.
        const old = await trx
          .selectFrom('reservations')
          .select(['farm_id', 'memory_mb', 'cpu'])
          .where('service_id', '=', svc.id)
          .execute();
        for (const o of old) {
          const f = farms.find((x) => x.id === o.farm_id);
          if (f) {
            f.usedMemoryMb -= o.memory_mb;
            f.usedCpu -= Number(o.cpu);
          }
        }
        await trx.deleteFrom('reservations').where('service_id', '=', svc.id).execute();
      }
      const spread = d.tier === 'gold' && d.instances >= 2 && farms.length >= 2 ? 2 : 1;
      const placed = placeSlots(farms, { instances: d.instances, memoryMb: d.memoryMb, cpu: d.cpu, spread });
      let farmIds: string[];
      if (placed.ok) farmIds = placed.farms;
      else {
        const fallback = local ?? (await repo.listFarms(trx, 'active'))[0];
        if (!fallback) continue; // no active farm at all: nothing to reserve on
        farmIds = Array.from({ length: d.instances }, () => fallback.id);
        const f = farms.find((x) => x.id === fallback.id);
        if (f) {
          f.usedMemoryMb += d.instances * d.memoryMb;
          f.usedCpu += d.instances * d.cpu;
        }
        overbooked += d.instances;
      }
      await trx
        .insertInto('reservations')
        .values(
          farmIds.map((farmId, slot) => ({
            farm_id: farmId,
            service_id: svc.id,
            department_id: svc.department_id,
            slot,
            memory_mb: d.memoryMb,
            cpu: d.cpu,
          })),
        )
        .execute();
      added += d.instances;
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
