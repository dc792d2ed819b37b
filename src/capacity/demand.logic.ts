import { recordChange } from '../audit/audit.logic.ts';
import type { SlaTier } from '../catalog/sla-tiers.ts';
import type { Db, Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page, PageOf } from '../platform/pagination.ts';
import { departmentCodes, resolveDepartment } from '../tenancy/department.logic.ts';
import { auditContext, authorize, type Caller, type Principal } from '../tenancy/principal.ts';
import * as repo from './demand.repository.ts';
import type { DemandKind } from './demand.tables.ts';
import { isMonth } from './month.ts';

/** A line of the demand pipeline as another capability (provisioning) hands it in. */
export interface PlannedDemandInput {
  kind: DemandKind;
  /** Null: the whole platform (a growth line then grows every department's reservations). */
  departmentId: string | null;
  services: number;
  instancesPerService: number;
  memoryMbPerInstance: number;
  /** Share of one CPU per instance. */
  cpuPerInstance: number;
  /** Disk per instance, MB (none when absent). */
  storageMbPerInstance?: number;
  /** Only for `growth`: % a month, compounded, on existing reservations. */
  growthPctPerMonth?: number | null;
  /** `YYYY-MM`. */
  goLive: string;
  /** Null or absent: the baseline. */
  scenario?: string | null;
  note?: string;
  /** The record this line stands for (e.g. a hosting request's id); unique. */
  sourceId?: string | null;
  /** The services' SLA tier, when known: gold ones are spread over two farms. */
  slaTier?: SlaTier | null;
}

export interface PlannedDemand {
  id: string;
  kind: DemandKind;
  department: string | null;
  services: number;
  instancesPerService: number;
  memoryMbPerInstance: number;
  cpuPerInstance: number;
  storageMbPerInstance: number;
  growthPctPerMonth: number | null;
  goLive: string;
  scenario: string | null;
  note: string;
  sourceId: string | null;
  slaTier: SlaTier | null;
  /** What the line adds once live (0 for growth lines, which grow what exists). */
  totalMemoryMb: number;
  totalCpu: number;
  totalStorageMb: number;
  createdAt: string;
}

const present = (r: repo.DemandRow, codes: Map<string, string>): PlannedDemand => {
  const slots = r.kind === 'growth' ? 0 : r.services * r.instances_per_service;
  return {
    id: r.id,
    kind: r.kind,
    department: r.department_id ? (codes.get(r.department_id) ?? null) : null,
    services: r.services,
    instancesPerService: r.instances_per_service,
    memoryMbPerInstance: r.memory_mb_per_instance,
    cpuPerInstance: Number(r.cpu_per_instance),
    storageMbPerInstance: r.storage_mb_per_instance,
    growthPctPerMonth: r.growth_pct_per_month === null ? null : Number(r.growth_pct_per_month),
    goLive: r.go_live,
    scenario: r.scenario,
    note: r.note,
    sourceId: r.source_id,
    slaTier: r.sla_tier,
    totalMemoryMb: slots * r.memory_mb_per_instance,
    totalCpu: Math.round(slots * Number(r.cpu_per_instance) * 1000) / 1000,
    totalStorageMb: slots * r.storage_mb_per_instance,
    createdAt: r.created_at.toISOString(),
  };
};

/** A problem naming the body field, as the schema validator names it. */
function invalid(field: string, message: string): DomainError {
  const at = `body/${field}`;
  return new DomainError('GOVHOST_VALIDATION', `${at} ${message}`, { errors: [{ field: at, message }] });
}

/** Checks what the schema cannot: fields that depend on the kind. */
function check(item: PlannedDemandInput): void {
  if (!isMonth(item.goLive)) throw invalid('goLive', 'must be a month, YYYY-MM');
  if (item.kind === 'growth') {
    if (item.growthPctPerMonth === undefined || item.growthPctPerMonth === null) {
      throw invalid('growthPctPerMonth', 'is required for a growth line');
    }
    if (
      item.services ||
      item.instancesPerService ||
      item.memoryMbPerInstance ||
      item.cpuPerInstance ||
      item.storageMbPerInstance
    ) {
      throw invalid('services', 'a growth line grows existing reservations: give no services or sizes');
    }
    return;
  }
  if (item.growthPctPerMonth !== undefined && item.growthPctPerMonth !== null) {
    throw invalid('growthPctPerMonth', 'is only for growth lines');
  }
  if (item.services < 1) throw invalid('services', 'must be at least 1');
  if (item.instancesPerService < 1) throw invalid('instancesPerService', 'must be at least 1');
  if (item.memoryMbPerInstance <= 0) throw invalid('memoryMbPerInstance', 'must be more than 0');
  if (item.cpuPerInstance <= 0) throw invalid('cpuPerInstance', 'must be more than 0');
}

const values = (item: PlannedDemandInput) => ({
  kind: item.kind,
  department_id: item.departmentId,
  services: item.services,
  instances_per_service: item.instancesPerService,
  memory_mb_per_instance: item.memoryMbPerInstance,
  cpu_per_instance: item.cpuPerInstance,
  storage_mb_per_instance: item.storageMbPerInstance ?? 0,
  growth_pct_per_month: item.kind === 'growth' ? (item.growthPctPerMonth ?? null) : null,
  go_live: item.goLive,
  scenario: item.scenario ?? null,
  note: item.note ?? '',
  source_id: item.sourceId ?? null,
  sla_tier: item.kind === 'growth' ? null : (item.slaTier ?? null),
});

/**
 * Puts a line in the demand pipeline, for another capability, inside the caller's transaction
 * (which records its own audit entry). A line with the same `sourceId` is replaced, so a changed
 * hosting request can simply be added again. Returns the line's id.
 */
export async function addPlannedDemand(tx: Executor, item: PlannedDemandInput): Promise<string> {
  check(item);
  if (item.sourceId) await repo.removeBySource(tx, item.sourceId);
  return (await repo.insert(tx, values(item))).id;
}

/** Takes out the line made for `sourceId` (e.g. once the request is provisioned or refused); how many went. */
export async function removePlannedDemand(tx: Executor, sourceId: string): Promise<number> {
  return repo.removeBySource(tx, sourceId);
}

export interface NewDemand {
  kind: DemandKind;
  department?: string;
  services?: number;
  instancesPerService?: number;
  memoryMbPerInstance?: number;
  cpuPerInstance?: number;
  storageMbPerInstance?: number;
  growthPctPerMonth?: number;
  goLive: string;
  scenario?: string;
  note?: string;
  slaTier?: SlaTier;
}

export async function listDemand(
  db: Db,
  caller: Principal,
  page: Page,
  filter: { scenario?: string; kind?: DemandKind; department?: string },
): Promise<PageOf<PlannedDemand>> {
  authorize(caller, 'capacity:read');
  const departmentId = filter.department
    ? (await resolveDepartment(db, caller, filter.department)).id
    : undefined;
  const { items, total } = await repo.list(db, { ...filter, departmentId }, page);
  const codes = await departmentCodes(
    db,
    items.map((i) => i.department_id),
  );
  return { items: items.map((i) => present(i, codes)), total, ...page };
}

export async function createDemand(db: Db, caller: Caller, body: NewDemand): Promise<PlannedDemand> {
  authorize(caller, 'capacity:write');
  const dept = body.department ? await resolveDepartment(db, caller, body.department) : null;
  const growth = body.kind === 'growth';
  const item: PlannedDemandInput = {
    kind: body.kind,
    departmentId: dept?.id ?? null,
    services: body.services ?? (growth ? 0 : 1),
    instancesPerService: body.instancesPerService ?? (growth ? 0 : 1),
    memoryMbPerInstance: body.memoryMbPerInstance ?? 0,
    cpuPerInstance: body.cpuPerInstance ?? 0,
    storageMbPerInstance: body.storageMbPerInstance ?? 0,
    growthPctPerMonth: body.growthPctPerMonth ?? null,
    goLive: body.goLive,
    scenario: body.scenario ?? null,
    note: body.note ?? '',
    slaTier: body.slaTier ?? null,
  };
  check(item);
  const row = await db.transaction().execute(async (tx) => {
    const r = await repo.insert(tx, values(item));
    await recordChange(tx, auditContext(caller), {
      action: 'demand.create',
      targetType: 'planned_demand',
      targetId: r.id,
      departmentId: r.department_id,
      after: r,
    });
    return r;
  });
  return present(row, new Map(dept ? [[dept.id, dept.code]] : []));
}

export async function deleteDemand(db: Db, caller: Caller, id: string): Promise<void> {
  authorize(caller, 'capacity:write');
  await db.transaction().execute(async (tx) => {
    const row = await repo.findById(tx, id);
    if (!row) throw new DomainError('GOVHOST_DEMAND_NOT_FOUND', `no planned demand ${id}`);
    await repo.remove(tx, id);
    await recordChange(tx, auditContext(caller), {
      action: 'demand.delete',
      targetType: 'planned_demand',
      targetId: id,
      departmentId: row.department_id,
      before: row,
    });
  });
}
