import { recordChange } from '../audit/audit.logic.ts';
import { countLive } from '../catalog/service.repository.ts';
import type { SlaTier } from '../catalog/sla-tiers.ts';
import type { Db, Executor } from '../platform/database.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import { departmentCodes, resolveDepartment } from '../tenancy/department.logic.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import { DEFAULT_QUOTA, departmentUse, lockAdmission, quotaOf, Refusal } from './admission.ts';

export interface Quota {
  department: string;
  limits: { memoryMb: number; instances: number; services: number };
  /** True when the department has no quota of its own and the platform defaults apply. */
  isDefault: boolean;
  usage: { services: number; instances: number; memoryMb: number };
}

/**
 * Refuses a new service that would take its department past its services quota. Call inside
 * the transaction that inserts the service, before the insert; run through
 * `transactionWithAdmission`, a refusal is recorded as unmet demand (one service, no instances).
 */
export async function admitNewService(
  tx: Executor,
  service: { departmentId: string; serviceKey: string; tier: SlaTier },
): Promise<void> {
  await lockAdmission(tx);
  const quota = await quotaOf(tx, service.departmentId);
  const services = (await countLive(tx, service.departmentId)) + 1;
  if (services > quota.services) {
    throw new Refusal(
      'GOVHOST_QUOTA_EXCEEDED',
      `quota exceeded: ${service.serviceKey} would bring the department to ${services} services; its quota is ${quota.services}`,
      { ...service, serviceId: null, services: 1, instances: 0, memoryMb: 0, cpu: 0, storageMb: 0 },
    );
  }
}

async function quotaView(db: Executor, dept: { id: string; code: string }): Promise<Quota> {
  const own = await db
    .selectFrom('department_quotas')
    .select('department_id')
    .where('department_id', '=', dept.id)
    .executeTakeFirst();
  const use = await departmentUse(db, dept.id, null);
  return {
    department: dept.code,
    limits: await quotaOf(db, dept.id),
    isDefault: !own,
    usage: { services: await countLive(db, dept.id), instances: use.instances, memoryMb: use.memoryMb },
  };
}

/** A department's quota and use: for the department's own people and the platform roles. */
export async function getQuota(db: Db, caller: Principal, code: string): Promise<Quota> {
  const dept = await resolveDepartment(db, caller, code);
  authorize(caller, departmentScope(caller) === null ? 'capacity:read' : 'service:read');
  return quotaView(db, dept);
}

export async function setQuota(
  db: Db,
  caller: Caller,
  code: string,
  input: { memoryMb?: number; instances?: number; services?: number },
): Promise<Quota> {
  authorize(caller, 'capacity:write');
  const dept = await resolveDepartment(db, caller, code);
  return db.transaction().execute(async (trx) => {
    const before = await quotaView(trx, dept);
    const next = {
      memory_mb: input.memoryMb ?? before.limits.memoryMb,
      instances: input.instances ?? before.limits.instances,
      services: input.services ?? before.limits.services,
    };
    await trx
      .insertInto('department_quotas')
      .values({ department_id: dept.id, ...next })
      .onConflict((oc) => oc.column('department_id').doUpdateSet({ ...next, updated_at: new Date() }))
      .execute();
    const after = await quotaView(trx, dept);
    await recordChange(trx, auditContext(caller), {
      action: 'quota.set',
      targetType: 'department',
      targetId: dept.code,
      departmentId: dept.id,
      before: before.limits,
      after: after.limits,
    });
    return after;
  });
}

export interface UnmetDemand {
  id: string;
  department: string | null;
  service: string;
  /** New services asked for (1: a refused service creation). */
  services: number;
  instances: number;
  memoryMb: number;
  cpu: number;
  /** Disk per instance, MiB. */
  storageMb: number;
  reason: string;
  at: string;
}

/** Demand that was refused, newest first: what the expansion forecast must answer. */
export async function listUnmetDemand(
  db: Db,
  caller: Principal,
  page: Page,
  filter: { department?: string; since?: string },
): Promise<PageOf<UnmetDemand>> {
  authorize(caller, 'capacity:read');
  let q = db.selectFrom('unmet_demand');
  if (filter.department) {
    q = q.where('department_id', '=', (await resolveDepartment(db, caller, filter.department)).id);
  }
  if (filter.since) q = q.where('at', '>=', new Date(filter.since));
  const rows = await q.selectAll().orderBy('at', 'desc').limit(page.limit).offset(page.offset).execute();
  const { n } = await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  const codes = await departmentCodes(
    db,
    rows.map((r) => r.department_id),
  );
  return {
    items: rows.map((r) => ({
      id: r.id,
      department: codes.get(r.department_id) ?? null,
      service: r.service_key,
      services: r.services,
      instances: r.instances,
      memoryMb: r.memory_mb,
      cpu: Number(r.cpu),
      storageMb: r.storage_mb,
      reason: r.reason,
      at: r.at.toISOString(),
    })),
    total: Number(n),
    ...page,
  };
}

export { DEFAULT_QUOTA };
