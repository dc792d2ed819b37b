import { sql } from 'kysely';
import type { AppManifest } from '../catalog/manifest.ts';
import { getRelease, type ReleaseRow, runtimeSettings } from '../catalog/release.repository.ts';
import type { SlaTier } from '../catalog/sla-tiers.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { type FarmFree, placeSlots } from './placement.ts';

/**
 * Share of one CPU each instance runs with (its cgroup quota where the host allows): capacity
 * reserves it and the orchestrator starts instances with it, so reservations match what runs.
 */
export const INSTANCE_CPU = 1;

/** What a deploy, a scale, a new service or a hosting request asks of the platform's capacity. */
export interface Demand {
  /** Null for a service that does not exist yet (a hosting request being checked). */
  serviceId: string | null;
  departmentId: string;
  /** `DEPT/slug`, for messages and the unmet-demand record. */
  serviceKey: string;
  tier: SlaTier;
  instances: number;
  memoryMb: number;
  /** Share of one CPU per instance. */
  cpu: number;
  /** Disk per instance, MiB (a release's disk_quota). */
  storageMb: number;
  /** New services asked for: 1 for a service being created, else absent. */
  services?: number;
}

/**
 * A refusal for quota or capacity. It carries what was asked, so that whoever ran the refused
 * change can record it as unmet demand once its transaction has rolled back.
 */
export class Refusal extends DomainError {
  constructor(
    code: 'GOVHOST_QUOTA_EXCEEDED' | 'GOVHOST_INSUFFICIENT_CAPACITY',
    detail: string,
    readonly demand: Demand,
  ) {
    super(code, detail);
  }
}

/** Quota when a department has no row of its own. */
export const DEFAULT_QUOTA = { memoryMb: 64 * 1024, instances: 100, services: 50 } as const;

export interface AdmissionCheck {
  ok: boolean;
  /** Why not, each in a sentence: quota first, then capacity. */
  reasons: string[];
  kind: 'quota' | 'capacity' | null;
  /** Farm id per instance slot, when ok. */
  farms: string[];
}

/** Gold-tier services keep their instances on two farms at least (when there are two). */
export const spreadOf = (tier: SlaTier, instances: number, activeFarms: number) =>
  tier === 'gold' && instances >= 2 && activeFarms >= 2 ? 2 : 1;

/** The department's quota (its own row, else DEFAULT_QUOTA); hosting requests check `services` with it. */
export async function quotaOf(db: Executor, departmentId: string) {
  const row = await db
    .selectFrom('department_quotas')
    .selectAll()
    .where('department_id', '=', departmentId)
    .executeTakeFirst();
  return row
    ? { memoryMb: row.memory_mb, instances: row.instances, services: row.services }
    : { ...DEFAULT_QUOTA };
}

/** The department's reservations, leaving out those of `exceptService` (being resized). */
export async function departmentUse(db: Executor, departmentId: string, exceptService: string | null) {
  let q = db
    .selectFrom('reservations')
    .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.sum<string>('memory_mb').as('mem')])
    .where('department_id', '=', departmentId);
  if (exceptService) q = q.where('service_id', '!=', exceptService);
  const r = await q.executeTakeFirstOrThrow();
  return { instances: Number(r.n), memoryMb: Number(r.mem ?? 0) };
}

/** Active farms with what is reserved on them, leaving out `exceptService`'s own slots. */
export async function activeFarms(db: Executor, exceptService: string | null): Promise<FarmFree[]> {
  const farms = await db
    .selectFrom('farms')
    .selectAll()
    .where('state', '=', 'active')
    .orderBy('code')
    .execute();
  let q = db
    .selectFrom('reservations')
    .select((eb) => [
      'farm_id',
      eb.fn.sum<string>('memory_mb').as('mem'),
      eb.fn.sum<string>('cpu').as('cpu'),
      eb.fn.sum<string>('storage_mb').as('storage'),
    ])
    .groupBy('farm_id');
  if (exceptService) q = q.where('service_id', '!=', exceptService);
  const used = new Map((await q.execute()).map((r) => [r.farm_id, r]));
  return farms.map((f) => ({
    id: f.id,
    code: f.code,
    memoryMb: f.memory_mb * f.memory_overcommit,
    cpu: f.vcpu * f.cpu_overcommit,
    usedMemoryMb: Number(used.get(f.id)?.mem ?? 0),
    usedCpu: Number(used.get(f.id)?.cpu ?? 0),
    storageMb: f.storage_gb * 1024,
    usedStorageMb: Number(used.get(f.id)?.storage ?? 0),
  }));
}

/** Would the demand be admitted? Changes nothing. */
export async function checkAdmission(db: Executor, demand: Demand): Promise<AdmissionCheck> {
  const quota = await quotaOf(db, demand.departmentId);
  const use = await departmentUse(db, demand.departmentId, demand.serviceId);
  const reasons: string[] = [];
  if (use.instances + demand.instances > quota.instances) {
    reasons.push(
      `quota exceeded: ${demand.serviceKey} would bring the department to ${use.instances + demand.instances} instances; its quota is ${quota.instances}`,
    );
  }
  const memory = use.memoryMb + demand.instances * demand.memoryMb;
  if (memory > quota.memoryMb) {
    reasons.push(
      `quota exceeded: ${demand.serviceKey} would bring the department to ${memory} MB of memory; its quota is ${quota.memoryMb} MB`,
    );
  }
  if (reasons.length > 0) return { ok: false, reasons, kind: 'quota', farms: [] };
  if (demand.instances === 0) return { ok: true, reasons: [], kind: null, farms: [] };
  const farms = await activeFarms(db, demand.serviceId);
  const placed = placeSlots(farms, {
    instances: demand.instances,
    memoryMb: demand.memoryMb,
    cpu: demand.cpu,
    storageMb: demand.storageMb,
    spread: spreadOf(demand.tier, demand.instances, farms.length),
  });
  if (!placed.ok) {
    return { ok: false, reasons: [`insufficient capacity: ${placed.reason}`], kind: 'capacity', farms: [] };
  }
  return { ok: true, reasons: [], kind: null, farms: placed.farms };
}

/**
 * Admits the demand inside the caller's transaction: replaces the service's reservations with
 * new ones, or throws (GOVHOST_QUOTA_EXCEEDED / GOVHOST_INSUFFICIENT_CAPACITY) so that the
 * whole change rolls back. The caller records unmet demand outside the failed transaction.
 */
export async function admit(tx: Executor, demand: Demand & { serviceId: string }): Promise<string[]> {
  await lockAdmission(tx);
  const check = await checkAdmission(tx, demand);
  if (!check.ok) {
    throw new Refusal(
      check.kind === 'quota' ? 'GOVHOST_QUOTA_EXCEEDED' : 'GOVHOST_INSUFFICIENT_CAPACITY',
      check.reasons.join('; '),
      demand,
    );
  }
  await reserveSlots(tx, demand, check.farms);
  return check.farms;
}

/** Replaces the service's reservations with one slot of the demand on each farm given. */
export async function reserveSlots(tx: Executor, demand: Demand & { serviceId: string }, farms: string[]) {
  await tx.deleteFrom('reservations').where('service_id', '=', demand.serviceId).execute();
  if (farms.length === 0) return;
  await tx
    .insertInto('reservations')
    .values(
      farms.map((farmId, slot) => ({
        farm_id: farmId,
        service_id: demand.serviceId,
        department_id: demand.departmentId,
        slot,
        memory_mb: demand.memoryMb,
        cpu: demand.cpu,
        storage_mb: demand.storageMb,
      })),
    )
    .execute();
}

/**
 * Admissions take turns, platform-wide, until their transaction ends: two deploys checked side by
 * side on PostgreSQL would otherwise both see the same free capacity and quota.
 */
export async function lockAdmission(tx: Executor): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('govhost.capacity.admission'))`.execute(tx);
}

/** Gives back a service's capacity (suspended, retired, deleted, scaled to zero). */
export async function releaseCapacity(tx: Executor, serviceId: string): Promise<void> {
  await tx.deleteFrom('reservations').where('service_id', '=', serviceId).execute();
}

/** Records demand that was refused, for the expansion forecast. */
export async function recordUnmetDemand(db: Executor, demand: Demand, reason: string): Promise<void> {
  await db
    .insertInto('unmet_demand')
    .values({
      department_id: demand.departmentId,
      service_id: demand.serviceId,
      service_key: demand.serviceKey,
      services: demand.services ?? 0,
      instances: demand.instances,
      memory_mb: demand.memoryMb,
      cpu: demand.cpu,
      storage_mb: demand.storageMb,
      reason,
    })
    .execute();
}

/** A service as admission names it. */
type ServiceRef = {
  id: string;
  department_id: string;
  department_code: string;
  slug: string;
  sla_tier: string;
};

/**
 * How a service running `release` with `size` asks for capacity: its instances and memory, the
 * CPU the runtime gives each, and the release's disk_quota per instance.
 */
export function releaseDemand(
  svc: ServiceRef,
  release: Pick<ReleaseRow, 'kind' | 'manifest'>,
  size: { instances: number; memoryMb: number },
): Demand & { serviceId: string } {
  // A static site is served by the router itself: no instance holds capacity for it.
  const runsProcesses = release.kind === 'process';
  return {
    serviceId: svc.id,
    departmentId: svc.department_id,
    serviceKey: `${svc.department_code}/${svc.slug}`,
    tier: svc.sla_tier as SlaTier,
    instances: runsProcesses ? size.instances : 0,
    memoryMb: size.memoryMb,
    cpu: INSTANCE_CPU,
    storageMb: runsProcesses ? ((release.manifest as Partial<AppManifest> | null)?.diskQuotaMb ?? 0) : 0,
  };
}

/** A suspended or retired service runs nothing, so holds no capacity until it is activated. */
export const runsNow = (lifecycle: string) => lifecycle === 'planned' || lifecycle === 'active';

/**
 * What a service needs as it runs now: its current release at its size, or null when it runs
 * nothing (no release yet, stopped, or a static site).
 */
export async function runningDemand(
  tx: Executor,
  svc: ServiceRef & { lifecycle: string },
): Promise<(Demand & { serviceId: string }) | null> {
  if (!runsNow(svc.lifecycle)) return null;
  const settings = await runtimeSettings(tx, svc.id);
  const release = settings?.current_release_id
    ? await getRelease(tx, settings.current_release_id)
    : undefined;
  if (!settings || !release) return null;
  const d = releaseDemand(svc, release, { instances: settings.instances, memoryMb: settings.memory_mb });
  return d.instances > 0 ? d : null;
}

/**
 * Runs `work` in one transaction in which it may admit demand (through the `admit` it is given,
 * or by calling `admit`/`admitNewService` itself). A refusal rolls everything back; the refused
 * demand is then recorded as unmet, in a statement of its own (the failed transaction cannot
 * hold it), and the refusal is thrown on.
 */
export async function transactionWithAdmission<T>(
  db: Db,
  work: (trx: Executor, admitDemand: (d: Demand & { serviceId: string }) => Promise<string[]>) => Promise<T>,
): Promise<T> {
  try {
    return await db.transaction().execute((trx) => work(trx, (d) => admit(trx, d)));
  } catch (err) {
    if (err instanceof Refusal) await recordUnmetDemand(db, err.demand, err.message);
    throw err;
  }
}
