import { recordChange } from '../audit/audit.logic.ts';
import {
  type AdmissionCheck,
  admit,
  checkAdmission,
  type Demand,
  INSTANCE_CPU,
  quotaOf,
  recordUnmetDemand,
} from '../capacity/admission.ts';
import { addPlannedDemand, removePlannedDemand } from '../capacity/demand.logic.ts';
import type { Channel, Origin } from '../catalog/catalog.tables.ts';
import { replaceEnv, setRuntimeSettings } from '../catalog/release.repository.ts';
import { createServiceIn, type NewService, serviceHostname } from '../catalog/service.logic.ts';
import * as services from '../catalog/service.repository.ts';
import type { SlaTier } from '../catalog/sla-tiers.ts';
import type { Db, Executor } from '../platform/database.ts';
import { isUniqueViolation } from '../platform/db-errors.ts';
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
import type { RequestState } from './provisioning.tables.ts';
import type { RequestRow } from './request.repository.ts';
import * as repo from './request.repository.ts';

export interface ProvisioningDeps {
  db: Db;
  /** Platform domain, for the provisioned service's host name. */
  domain: string;
}

/** CPU reserved per instance when a request does not say: what the runtime gives an instance. */
export const DEFAULT_CPU = INSTANCE_CPU;

export interface HostingRequest {
  id: string;
  department: string;
  /** `DEPT/slug` of the service asked for (and, once approved, provisioned). */
  service: string;
  slug: string;
  nameEn: string;
  nameZh: string;
  description: string;
  origin: Origin;
  egisRef: string | null;
  channels: Channel[];
  personalised: boolean;
  slaTier: SlaTier;
  instances: number;
  memoryMb: number;
  cpu: number;
  /** Expected disk per instance, MiB (0: not stated). */
  storageMb: number;
  goLive: string;
  justification: string;
  environment: Record<string, string>;
  state: RequestState;
  /** Why it waits for an operator; empty once decided. */
  reasons: string[];
  requestedBy: string;
  decidedBy: string | null;
  autoApproved: boolean;
  rejectReason: string | null;
  hostname: string | null;
  submittedAt: string;
  /** Approved and provisioned: the service is ready. */
  approvedAt: string | null;
  rejectedAt: string | null;
  cancelledAt: string | null;
  /** Submission to ready, in milliseconds. */
  leadTimeMs: number | null;
  updatedAt: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const presentRequest = (r: RequestRow): HostingRequest => ({
  id: r.id,
  department: r.department_code,
  service: `${r.department_code}/${r.slug}`,
  slug: r.slug,
  nameEn: r.name_en,
  nameZh: r.name_zh,
  description: r.description,
  origin: r.origin,
  egisRef: r.egis_ref,
  channels: r.channels,
  personalised: r.personalised,
  slaTier: r.sla_tier as SlaTier,
  instances: r.instances,
  memoryMb: r.memory_mb,
  cpu: r.cpu,
  storageMb: r.storage_mb,
  goLive: r.go_live,
  justification: r.justification,
  environment: r.environment,
  state: r.state,
  reasons: r.reasons,
  requestedBy: r.requested_by,
  decidedBy: r.decided_by,
  autoApproved: r.auto_approved,
  rejectReason: r.reject_reason,
  hostname: r.hostname,
  submittedAt: r.submitted_at.toISOString(),
  approvedAt: iso(r.approved_at),
  rejectedAt: iso(r.rejected_at),
  cancelledAt: iso(r.cancelled_at),
  leadTimeMs: r.lead_time_ms,
  updatedAt: r.updated_at.toISOString(),
});

const notFound = (id: string) => new DomainError('GOVHOST_REQUEST_NOT_FOUND', `no hosting request ${id}`);

const demandOf = (
  r: Pick<
    RequestRow,
    | 'department_id'
    | 'department_code'
    | 'slug'
    | 'sla_tier'
    | 'instances'
    | 'memory_mb'
    | 'cpu'
    | 'storage_mb'
  >,
): Demand => ({
  serviceId: null,
  departmentId: r.department_id,
  serviceKey: `${r.department_code}/${r.slug}`,
  tier: r.sla_tier as SlaTier,
  instances: r.instances,
  memoryMb: r.memory_mb,
  cpu: r.cpu,
  storageMb: r.storage_mb,
});

/** Services that count against the quota: every one not retired. */
async function liveServices(db: Executor, departmentId: string): Promise<number> {
  const page = { limit: 1, offset: 0 };
  const all = await services.list(db, departmentId, page, { departmentId });
  const retired = await services.list(db, departmentId, page, { departmentId, lifecycle: 'retired' });
  return all.total - retired.total;
}

/**
 * Admission of a new service: capacity's quota-and-capacity check, and the services quota
 * (admission looks at instances and memory only, since a deploy or scale adds no service).
 */
export async function checkNewService(db: Executor, demand: Demand): Promise<AdmissionCheck> {
  const check = await checkAdmission(db, demand);
  const quota = await quotaOf(db, demand.departmentId);
  const count = await liveServices(db, demand.departmentId);
  if (count + 1 <= quota.services) return check;
  const reason = `quota exceeded: ${demand.serviceKey} would bring the department to ${count + 1} services; its quota is ${quota.services}`;
  return {
    ok: false,
    kind: 'quota',
    farms: [],
    reasons: [reason, ...(check.kind === 'quota' ? check.reasons : [])],
  };
}

const bad = (field: string, message: string) =>
  new DomainError('GOVHOST_VALIDATION', `${field} ${message}`, {
    errors: [{ field: `body/${field}`, message }],
  });

/** Today's date in UTC, `YYYY-MM-DD`. */
const today = (now: Date) => now.toISOString().slice(0, 10);

/** The service to provision, as the catalogue takes it, and what it will need. */
export interface NewRequest extends NewService {
  instances: number;
  memoryMb: number;
  cpu?: number;
  /** Expected disk per instance, MiB. */
  storageMb?: number;
  goLive: string;
  justification?: string;
  environment?: Record<string, string>;
}

/**
 * Records a hosting request. Inside quota and capacity it is approved and provisioned at once;
 * otherwise it waits for an operator with the reasons. The request is recorded in a transaction
 * of its own first, so that a provisioning that fails leaves it pending in the queue (with why)
 * rather than lost.
 */
export async function submitRequest(
  deps: ProvisioningDeps,
  caller: Caller,
  input: NewRequest,
  now = new Date(),
): Promise<HostingRequest> {
  authorize(caller, 'request:write');
  const code = input.department ?? caller.departmentCode;
  if (!code) throw bad('department', 'is required for a platform user');
  if (input.origin === 'new' && input.egisRef) {
    throw bad('egisRef', 'is only for services migrated from EGIS (origin migrated)');
  }
  if (Number.isNaN(Date.parse(`${input.goLive}T00:00:00Z`))) throw bad('goLive', 'is not a date');
  if (input.goLive < today(now)) {
    throw bad('goLive', `is in the past (today is ${today(now)}): ask for a date from today on`);
  }
  const dept = await resolveDepartment(deps.db, caller, code);
  const key = `${dept.code}/${input.slug}`;
  if (await services.find(deps.db, null, dept.id, input.slug)) {
    throw new DomainError('GOVHOST_SERVICE_EXISTS', `service ${key} exists already`);
  }
  const demand: Demand = {
    serviceId: null,
    departmentId: dept.id,
    serviceKey: key,
    tier: input.slaTier,
    instances: input.instances,
    memoryMb: input.memoryMb,
    cpu: input.cpu ?? DEFAULT_CPU,
    storageMb: input.storageMb ?? 0,
  };
  let recorded: { id: string; check: AdmissionCheck };
  try {
    recorded = await deps.db.transaction().execute(async (trx) => {
      const check = await checkNewService(trx, demand);
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
        instances: input.instances,
        memory_mb: input.memoryMb,
        cpu: demand.cpu,
        storage_mb: demand.storageMb,
        go_live: input.goLive,
        justification: input.justification ?? '',
        environment: input.environment ?? {},
        reasons: check.reasons,
        requested_by: caller.username,
        submitted_at: now,
      });
      const row = (await repo.find(trx, null, id))!;
      await recordChange(trx, auditContext(caller), {
        action: 'request.submit',
        targetType: 'hosting-request',
        targetId: id,
        departmentId: dept.id,
        after: presentRequest(row),
      });
      if (!check.ok && input.goLive > today(now)) {
        // A request waiting in the queue with a future go-live is planned demand until decided.
        await addPlannedDemand(trx, {
          kind: 'hosting-request',
          departmentId: dept.id,
          services: 1,
          instancesPerService: input.instances,
          memoryMbPerInstance: input.memoryMb,
          cpuPerInstance: demand.cpu,
          storageMbPerInstance: demand.storageMb,
          goLive: input.goLive.slice(0, 7),
          note: `hosting request for ${key}`,
          sourceId: id,
          slaTier: input.slaTier,
        });
      }
      return { id, check };
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new DomainError('GOVHOST_REQUEST_EXISTS', `a hosting request for ${key} is already waiting`);
    }
    throw err;
  }
  const { id, check } = recorded;
  if (check.ok) {
    try {
      await provision(deps, caller, id, true);
    } catch (err) {
      // Someone took the capacity or the name between the check and now: the queue decides.
      if (!(err instanceof DomainError) || err.code === 'GOVHOST_INTERNAL') throw err;
      await repo.setReasons(deps.db, id, [err.message]);
    }
  } else if (check.kind === 'capacity') {
    await recordUnmetDemand(deps.db, demand, check.reasons.join('; '));
  }
  return presentRequest((await repo.find(deps.db, null, id))!);
}

/**
 * Provisions a pending request in one transaction: the service is registered, sized, given its
 * variables and its capacity; the request becomes approved with its lead time. Any failure
 * (quota, capacity, a name taken meanwhile) rolls all of it back and is thrown.
 */
async function provision(deps: ProvisioningDeps, caller: Caller, id: string, auto: boolean) {
  try {
    await deps.db.transaction().execute(async (trx) => {
      const row = await repo.find(trx, null, id, true);
      if (!row) throw notFound(id);
      if (row.state !== 'pending') {
        throw new DomainError('GOVHOST_REQUEST_STATE', `hosting request ${id} is ${row.state}`);
      }
      const demand = demandOf(row);
      if (await services.find(trx, null, row.department_id, row.slug)) {
        throw new DomainError('GOVHOST_SERVICE_EXISTS', `service ${demand.serviceKey} exists already`);
      }
      const check = await checkNewService(trx, demand);
      if (!check.ok) {
        throw new DomainError(
          check.kind === 'quota' ? 'GOVHOST_QUOTA_EXCEEDED' : 'GOVHOST_INSUFFICIENT_CAPACITY',
          check.reasons.join('; '),
        );
      }
      const service = await createServiceIn(trx, deps.domain, caller, {
        department: row.department_code,
        slug: row.slug,
        nameEn: row.name_en,
        nameZh: row.name_zh,
        description: row.description,
        origin: row.origin,
        ...(row.egis_ref ? { egisRef: row.egis_ref } : {}),
        channels: row.channels,
        personalised: row.personalised,
        slaTier: row.sla_tier as SlaTier,
      });
      await setRuntimeSettings(trx, service.id, { instances: row.instances, memory_mb: row.memory_mb });
      const env = Object.entries(row.environment).sort(([a], [b]) => a.localeCompare(b));
      if (env.length > 0) {
        await replaceEnv(
          trx,
          service.id,
          env.map(([key, value]) => ({ key, value, secret: false })),
        );
      }
      const farms = await admit(trx, { ...demand, serviceId: service.id });
      const at = new Date();
      const hostname = serviceHostname(row.slug, row.department_code, deps.domain);
      const leadTimeMs = Math.max(0, at.getTime() - row.submitted_at.getTime());
      await repo.markApproved(trx, id, {
        decidedBy: caller.username,
        auto,
        serviceId: service.id,
        hostname,
        at,
        leadTimeMs,
      });
      // Now real capacity (reservations), no longer planned demand.
      await removePlannedDemand(trx, id);
      await recordChange(trx, auditContext(caller), {
        action: 'request.approve',
        targetType: 'hosting-request',
        targetId: id,
        departmentId: row.department_id,
        before: { state: row.state, reasons: row.reasons },
        after: {
          state: 'approved',
          autoApproved: auto,
          service: demand.serviceKey,
          hostname,
          instances: row.instances,
          memoryMb: row.memory_mb,
          storageMb: row.storage_mb,
          farms: farms.length,
          leadTimeMs,
        },
      });
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new DomainError(
        'GOVHOST_SERVICE_EXISTS',
        `the service that request ${id} asks for was registered meanwhile`,
      );
    }
    throw err;
  }
}

/** An operator approves a waiting request: it is provisioned now, or refused (409) and stays pending. */
export async function approveRequest(deps: ProvisioningDeps, caller: Caller, id: string) {
  authorize(caller, 'request:approve');
  try {
    await provision(deps, caller, id, false);
  } catch (err) {
    if (
      err instanceof DomainError &&
      ['GOVHOST_QUOTA_EXCEEDED', 'GOVHOST_INSUFFICIENT_CAPACITY', 'GOVHOST_SERVICE_EXISTS'].includes(err.code)
    ) {
      // The queue shows why it still waits.
      await repo.setReasons(deps.db, id, [err.message]);
    }
    throw err;
  }
  return presentRequest((await repo.find(deps.db, null, id))!);
}

/** Ends a pending request: rejected by an operator (with a reason) or cancelled by its department. */
async function close(
  deps: ProvisioningDeps,
  caller: Caller,
  id: string,
  how: { action: 'reject'; reason: string } | { action: 'cancel' },
) {
  return deps.db.transaction().execute(async (trx) => {
    const row = await repo.find(trx, departmentScope(caller), id, true);
    if (!row) throw notFound(id);
    if (row.state !== 'pending') {
      throw new DomainError(
        'GOVHOST_REQUEST_STATE',
        `hosting request ${id} is ${row.state}; only a pending request can be ${how.action === 'reject' ? 'rejected' : 'cancelled'}`,
      );
    }
    const at = new Date();
    if (how.action === 'reject') {
      await repo.markRejected(trx, id, { decidedBy: caller.username, reason: how.reason, at });
    } else {
      await repo.markCancelled(trx, id, at);
    }
    // A decided request leaves the demand pipeline.
    await removePlannedDemand(trx, id);
    const after = presentRequest((await repo.find(trx, null, id))!);
    await recordChange(trx, auditContext(caller), {
      action: `request.${how.action}`,
      targetType: 'hosting-request',
      targetId: id,
      departmentId: row.department_id,
      before: { state: row.state },
      after: { state: after.state, ...(how.action === 'reject' ? { reason: how.reason } : {}) },
    });
    return after;
  });
}

export async function rejectRequest(deps: ProvisioningDeps, caller: Caller, id: string, reason: string) {
  authorize(caller, 'request:approve');
  if (reason.trim() === '') throw bad('reason', 'must say why the request is rejected');
  return close(deps, caller, id, { action: 'reject', reason: reason.trim() });
}

export async function cancelRequest(deps: ProvisioningDeps, caller: Caller, id: string) {
  authorize(caller, 'request:write');
  return close(deps, caller, id, { action: 'cancel' });
}

export async function getRequest(deps: ProvisioningDeps, caller: Principal, id: string) {
  authorize(caller, 'service:read');
  const row = await repo.find(deps.db, departmentScope(caller), id);
  if (!row) throw notFound(id);
  return presentRequest(row);
}

export async function listRequests(
  deps: ProvisioningDeps,
  caller: Principal,
  page: Page,
  filter: { state?: RequestState; department?: string },
): Promise<PageOf<HostingRequest>> {
  authorize(caller, 'service:read');
  const departmentId = filter.department
    ? (await resolveDepartment(deps.db, caller, filter.department)).id
    : undefined;
  const { items, total } = await repo.list(deps.db, departmentScope(caller), page, {
    state: filter.state,
    departmentId,
  });
  return { items: items.map(presentRequest), total, ...page };
}

/** The value below which a share `p` of the sorted values lie, interpolated (as percentile_cont). */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = (sorted.length - 1) * p;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return Math.round(a + (b - a) * (rank - lo));
}

export interface LeadTimeFigures {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
}

const figures = (values: number[]): LeadTimeFigures => {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, medianMs: percentile(sorted, 0.5), p90Ms: percentile(sorted, 0.9) };
};

/** Lead time from submission to ready, overall and per month of readiness (UTC). */
export async function leadTimeReport(deps: ProvisioningDeps, caller: Principal) {
  authorize(caller, 'service:read');
  const rows = await repo.leadTimes(deps.db, departmentScope(caller));
  const byMonth = new Map<string, number[]>();
  for (const r of rows) {
    const month = r.at.toISOString().slice(0, 7);
    byMonth.set(month, [...(byMonth.get(month) ?? []), r.ms]);
  }
  return {
    ...figures(rows.map((r) => r.ms)),
    months: [...byMonth.entries()].map(([month, ms]) => ({ month, ...figures(ms) })),
  };
}
