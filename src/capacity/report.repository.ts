import { sql } from 'kysely';
import * as services from '../catalog/service.repository.ts';
import type { Executor } from '../platform/database.ts';
import type { FarmState } from './capacity.tables.ts';

/** A farm as the reports read it: dates as `YYYY-MM-DD` text, so no time zone can move them. */
export interface FarmFacts {
  id: string;
  code: string;
  name: string;
  state: FarmState;
  vcpu: number;
  memoryMb: number;
  storageGb: number;
  idleWatts: number;
  maxWatts: number;
  costHkd: number;
  cpuOvercommit: number;
  memoryOvercommit: number;
  orderedOn: string | null;
  activeFrom: string | null;
  retiredOn: string | null;
}

export async function listFarms(db: Executor): Promise<FarmFacts[]> {
  const rows = await db
    .selectFrom('farms')
    .select([
      'id',
      'code',
      'name',
      'state',
      'vcpu',
      'memory_mb',
      'storage_gb',
      'idle_watts',
      'max_watts',
      'cost_hkd',
      'cpu_overcommit',
      'memory_overcommit',
      sql<string | null>`to_char(ordered_on, 'YYYY-MM-DD')`.as('ordered_on'),
      sql<string | null>`to_char(active_from, 'YYYY-MM-DD')`.as('active_from'),
      sql<string | null>`to_char(retired_on, 'YYYY-MM-DD')`.as('retired_on'),
    ])
    .orderBy('code')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    code: r.code,
    name: r.name,
    state: r.state,
    vcpu: Number(r.vcpu),
    memoryMb: Number(r.memory_mb),
    storageGb: Number(r.storage_gb),
    idleWatts: Number(r.idle_watts),
    maxWatts: Number(r.max_watts),
    costHkd: Number(r.cost_hkd),
    cpuOvercommit: Number(r.cpu_overcommit),
    memoryOvercommit: Number(r.memory_overcommit),
    orderedOn: r.ordered_on,
    activeFrom: r.active_from,
    retiredOn: r.retired_on,
  }));
}

/** What one service holds on one farm. */
export interface Holding {
  farmId: string;
  serviceId: string;
  departmentId: string;
  slots: number;
  memoryMb: number;
  cpu: number;
  storageMb: number;
}

export async function holdings(db: Executor): Promise<Holding[]> {
  const rows = await db
    .selectFrom('reservations')
    .select([
      'farm_id',
      'service_id',
      'department_id',
      sql<number>`count(*)::int`.as('slots'),
      sql<number>`sum(memory_mb)::float8`.as('memory_mb'),
      sql<number>`sum(cpu)::float8`.as('cpu'),
      sql<number>`sum(storage_mb)::float8`.as('storage_mb'),
    ])
    .groupBy(['farm_id', 'service_id', 'department_id'])
    .execute();
  return rows.map((r) => ({
    farmId: r.farm_id,
    serviceId: r.service_id,
    departmentId: r.department_id,
    slots: Number(r.slots),
    memoryMb: Number(r.memory_mb),
    cpu: Number(r.cpu),
    storageMb: Number(r.storage_mb),
  }));
}

/** `DEPT/slug` of every service, through the catalogue's repository. */
export async function serviceKeys(db: Executor): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let offset = 0; ; offset += 500) {
    const page = await services.list(db, null, { limit: 500, offset }, {});
    for (const s of page.items) out.set(s.id, `${s.department_code}/${s.slug}`);
    if (page.items.length < 500) return out;
  }
}

/** Every service's SLA tier, by id, through the catalogue's repository. */
export async function serviceTiers(db: Executor): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let offset = 0; ; offset += 500) {
    const page = await services.list(db, null, { limit: 500, offset }, {});
    for (const s of page.items) out.set(s.id, s.sla_tier);
    if (page.items.length < 500) return out;
  }
}
