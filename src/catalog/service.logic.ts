import { recordChange } from '../audit/audit.logic.ts';
import { releaseCapacity, runningDemand, runsNow, transactionWithAdmission } from '../capacity/admission.ts';
import { admitNewService } from '../capacity/quota.logic.ts';
import type { Db, Executor } from '../platform/database.ts';
import { isForeignKeyViolation, isUniqueViolation } from '../platform/db-errors.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import { resolveDepartment } from '../tenancy/department.logic.ts';
import {
  auditContext,
  authorize,
  type Caller,
  departmentScope,
  type Principal,
} from '../tenancy/principal.ts';
import type { Channel, LifecycleState, Origin } from './catalog.tables.ts';
import { recordLifecycle } from './lifecycle.repository.ts';
import type { ServiceRow } from './service.repository.ts';
import * as repo from './service.repository.ts';
import { SLA_TIERS, type SlaTier } from './sla-tiers.ts';

export interface CatalogDeps {
  db: Db;
  /** Platform domain, for each service's host name. */
  domain: string;
  /** Told after a service's lifecycle state changed, so the runtime can stop or start it. */
  onLifecycle?: (
    service: { id: string; slug: string; departmentCode: string },
    state: LifecycleState,
  ) => Promise<void>;
}

export interface Service {
  id: string;
  department: string;
  slug: string;
  nameEn: string;
  nameZh: string;
  description: string;
  origin: Origin;
  egisRef: string | null;
  channels: Channel[];
  personalised: boolean;
  slaTier: SlaTier;
  slaTarget: number;
  lifecycle: LifecycleState;
  hostname: string;
  createdAt: string;
  updatedAt: string;
}

/** Where citizens reach a service: `<service>.<dept>.<platform domain>`. */
export const serviceHostname = (slug: string, departmentCode: string, domain: string) =>
  `${slug}.${departmentCode.toLowerCase()}.${domain}`;

const present = (r: ServiceRow, domain: string): Service => ({
  id: r.id,
  department: r.department_code,
  slug: r.slug,
  nameEn: r.name_en,
  nameZh: r.name_zh,
  description: r.description,
  origin: r.origin,
  egisRef: r.egis_ref,
  channels: r.channels,
  personalised: r.personalised,
  slaTier: r.sla_tier as SlaTier,
  slaTarget: SLA_TIERS[r.sla_tier as SlaTier]?.target ?? 0,
  lifecycle: r.lifecycle,
  hostname: serviceHostname(r.slug, r.department_code, domain),
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/** Which lifecycle states a service may move to from each state. */
const TRANSITIONS: Record<LifecycleState, LifecycleState[]> = {
  planned: ['active', 'retired'],
  active: ['suspended', 'retired'],
  suspended: ['active', 'retired'],
  retired: [],
};

/** The service as the caller may see it, or 404 (also for another department's service). */
export async function resolveService(db: Db, caller: Principal, department: string, slug: string) {
  const dept = await resolveDepartment(db, caller, department);
  const row = await repo.find(db, departmentScope(caller), dept.id, slug);
  if (!row) throw new DomainError('GOVHOST_SERVICE_NOT_FOUND', `no service ${slug} in ${dept.code}`);
  return row;
}

/** A service by id, for a capability that holds only its id (the payment page names the service). */
export async function serviceById(db: Db, id: string, domain: string): Promise<Service | null> {
  const row = await repo.findById(db, id);
  return row ? present(row, domain) : null;
}

export async function listServices(
  deps: CatalogDeps,
  caller: Principal,
  page: Page,
  filter: { department?: string; lifecycle?: LifecycleState; origin?: Origin },
): Promise<PageOf<Service>> {
  authorize(caller, 'service:read');
  const departmentId = filter.department
    ? (await resolveDepartment(deps.db, caller, filter.department)).id
    : undefined;
  const { items, total } = await repo.list(deps.db, departmentScope(caller), page, {
    departmentId,
    lifecycle: filter.lifecycle,
    origin: filter.origin,
  });
  return { items: items.map((r) => present(r, deps.domain)), total, ...page };
}

export async function getService(deps: CatalogDeps, caller: Principal, department: string, slug: string) {
  authorize(caller, 'service:read');
  return present(await resolveService(deps.db, caller, department, slug), deps.domain);
}

export interface NewService {
  department?: string;
  slug: string;
  nameEn: string;
  nameZh: string;
  description?: string;
  origin: Origin;
  egisRef?: string;
  channels: Channel[];
  personalised?: boolean;
  slaTier: SlaTier;
}

export async function createService(deps: CatalogDeps, caller: Caller, input: NewService): Promise<Service> {
  try {
    // A creation refused for the services quota is recorded as unmet demand.
    return await transactionWithAdmission(deps.db, (trx) => createServiceIn(trx, deps.domain, caller, input));
  } catch (err) {
    if (isUniqueViolation(err)) {
      const code = input.department ?? caller.departmentCode ?? '';
      throw new DomainError(
        'GOVHOST_SERVICE_EXISTS',
        `service ${input.slug} exists in ${code.toUpperCase()}`,
      );
    }
    throw err;
  }
}

/**
 * Registers a service inside the caller's transaction, so that more can happen in the same
 * transaction (a hosting request sizes it and reserves its capacity too). A slug already taken
 * fails with the database's unique violation, which aborts the transaction: the caller maps it
 * (createService above does) once the transaction has rolled back.
 */
export async function createServiceIn(
  trx: Executor,
  domain: string,
  caller: Caller,
  input: NewService,
): Promise<Service> {
  const code = input.department ?? caller.departmentCode;
  if (!code) throw new DomainError('GOVHOST_VALIDATION', 'department is required for a platform user');
  if (input.origin === 'new' && input.egisRef) {
    throw new DomainError('GOVHOST_VALIDATION', 'egisRef is only for services migrated from EGIS');
  }
  const dept = await resolveDepartment(trx, caller, code);
  authorize(caller, 'service:write');
  await admitNewService(trx, {
    departmentId: dept.id,
    serviceKey: `${dept.code}/${input.slug}`,
    tier: input.slaTier,
  });
  const id = await repo.insert(trx, {
    department_id: dept.id,
    slug: input.slug,
    name_en: input.nameEn,
    name_zh: input.nameZh,
    description: input.description ?? '',
    origin: input.origin,
    egis_ref: input.egisRef ?? null,
    channels: [...new Set(input.channels)],
    personalised: input.personalised ?? false,
    sla_tier: input.slaTier,
  });
  const after = present((await repo.findById(trx, id))!, domain);
  await recordChange(trx, auditContext(caller), {
    action: 'service.create',
    targetType: 'service',
    targetId: `${dept.code}/${input.slug}`,
    departmentId: dept.id,
    after,
  });
  return after;
}

export interface ServicePatch {
  nameEn?: string;
  nameZh?: string;
  description?: string;
  egisRef?: string | null;
  channels?: Channel[];
  personalised?: boolean;
  slaTier?: SlaTier;
  lifecycle?: LifecycleState;
}

export async function updateService(
  deps: CatalogDeps,
  caller: Caller,
  department: string,
  slug: string,
  patch: ServicePatch,
): Promise<Service> {
  const updated = await transactionWithAdmission(deps.db, async (trx, admit) => {
    const row = await resolveService(trx, caller, department, slug);
    authorize(caller, 'service:write');
    if (
      patch.lifecycle &&
      patch.lifecycle !== row.lifecycle &&
      !TRANSITIONS[row.lifecycle].includes(patch.lifecycle)
    ) {
      throw new DomainError(
        'GOVHOST_LIFECYCLE_TRANSITION',
        `a ${row.lifecycle} service cannot become ${patch.lifecycle} (allowed: ${TRANSITIONS[row.lifecycle].join(', ') || 'none'})`,
      );
    }
    await repo.update(trx, row.id, {
      name_en: patch.nameEn,
      name_zh: patch.nameZh,
      description: patch.description,
      egis_ref: patch.egisRef,
      channels: patch.channels ? [...new Set(patch.channels)] : undefined,
      personalised: patch.personalised,
      sla_tier: patch.slaTier,
      lifecycle: patch.lifecycle,
    });
    if (patch.lifecycle && patch.lifecycle !== row.lifecycle)
      await recordLifecycle(trx, row.id, patch.lifecycle);
    const lifecycle = patch.lifecycle ?? row.lifecycle;
    const tierChanged = patch.slaTier !== undefined && patch.slaTier !== row.sla_tier;
    if (!runsNow(lifecycle)) {
      // A stopped service gives its capacity back.
      if (lifecycle !== row.lifecycle) await releaseCapacity(trx, row.id);
    } else if (tierChanged || !runsNow(row.lifecycle)) {
      // Started again, or on another tier (gold spreads its instances over two farms): placed
      // anew under the new tier, or refused with nothing changed.
      const demand = await runningDemand(trx, { ...row, lifecycle, sla_tier: patch.slaTier ?? row.sla_tier });
      if (demand) await admit(demand);
    }
    const before = present(row, deps.domain);
    const after = present((await repo.findById(trx, row.id))!, deps.domain);
    await recordChange(trx, auditContext(caller), {
      action: 'service.update',
      targetType: 'service',
      targetId: `${row.department_code}/${row.slug}`,
      departmentId: row.department_id,
      before,
      after,
    });
    return after;
  });
  if (patch.lifecycle && deps.onLifecycle) {
    await deps.onLifecycle(
      { id: updated.id, slug: updated.slug, departmentCode: updated.department },
      patch.lifecycle,
    );
  }
  return updated;
}

/** Deletes a service that never went live or has been retired. */
export async function deleteService(deps: CatalogDeps, caller: Caller, department: string, slug: string) {
  await deps.db.transaction().execute(async (trx) => {
    const row = await resolveService(trx, caller, department, slug);
    authorize(caller, 'service:write');
    if (row.lifecycle !== 'planned' && row.lifecycle !== 'retired') {
      throw new DomainError(
        'GOVHOST_LIFECYCLE_TRANSITION',
        `retire the ${row.lifecycle} service before deleting it`,
      );
    }
    await releaseCapacity(trx, row.id);
    try {
      await repo.remove(trx, row.id);
    } catch (err) {
      // Rows that must outlive the service (payments and their ledger, decision 040) refer to it.
      if (isForeignKeyViolation(err))
        throw new DomainError(
          'GOVHOST_SERVICE_IN_USE',
          `${row.department_code}/${row.slug} has payments: retire it instead`,
        );
      throw err;
    }
    await recordChange(trx, auditContext(caller), {
      action: 'service.delete',
      targetType: 'service',
      targetId: `${row.department_code}/${row.slug}`,
      departmentId: row.department_id,
      before: present(row, deps.domain),
    });
  });
}

/** Service slugs by id, for presenting other capabilities' rows. */
export const serviceSlugs = (db: Executor, ids: (string | null)[]) =>
  repo.slugsById(db, [...new Set(ids.filter((id): id is string => id !== null))]);
