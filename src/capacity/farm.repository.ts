import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { FarmState } from './capacity.tables.ts';

/** A farm row with its dates as `YYYY-MM-DD` (a date has no time zone to get wrong). */
export interface FarmRow {
  id: string;
  code: string;
  name: string;
  vcpu: number;
  memory_mb: number;
  storage_gb: number;
  idle_watts: number;
  max_watts: number;
  cost_hkd: number;
  phase: number;
  state: FarmState;
  ordered_on: string | null;
  active_from: string | null;
  retired_on: string | null;
  cpu_overcommit: number;
  memory_overcommit: number;
  is_local: boolean;
  created_at: Date;
  updated_at: Date;
}

function selectFarms(db: Executor) {
  return db
    .selectFrom('farms')
    .select([
      'id',
      'code',
      'name',
      'vcpu',
      'memory_mb',
      'storage_gb',
      'idle_watts',
      'max_watts',
      'cost_hkd',
      'phase',
      'state',
      'cpu_overcommit',
      'memory_overcommit',
      'is_local',
      'created_at',
      'updated_at',
      sql<string | null>`to_char(ordered_on, 'YYYY-MM-DD')`.as('ordered_on'),
      sql<string | null>`to_char(active_from, 'YYYY-MM-DD')`.as('active_from'),
      sql<string | null>`to_char(retired_on, 'YYYY-MM-DD')`.as('retired_on'),
    ]);
}

const normalise = (r: FarmRow): FarmRow => ({
  ...r,
  vcpu: Number(r.vcpu),
  cost_hkd: Number(r.cost_hkd),
  idle_watts: Number(r.idle_watts),
  max_watts: Number(r.max_watts),
  cpu_overcommit: Number(r.cpu_overcommit),
  memory_overcommit: Number(r.memory_overcommit),
});

export async function listFarms(db: Executor, state?: FarmState): Promise<FarmRow[]> {
  let q = selectFarms(db);
  if (state) q = q.where('state', '=', state);
  return ((await q.orderBy('code').execute()) as FarmRow[]).map(normalise);
}

export async function findFarm(db: Executor, code: string): Promise<FarmRow | undefined> {
  const r = (await selectFarms(db).where('code', '=', code).executeTakeFirst()) as FarmRow | undefined;
  return r ? normalise(r) : undefined;
}

export async function findLocalFarm(db: Executor): Promise<FarmRow | undefined> {
  const r = (await selectFarms(db).where('is_local', '=', true).executeTakeFirst()) as FarmRow | undefined;
  return r ? normalise(r) : undefined;
}

/** Values as the API gives them: dates as `YYYY-MM-DD` strings. */
export interface FarmValues {
  code: string;
  name: string;
  vcpu: number;
  memory_mb: number;
  storage_gb: number;
  idle_watts: number;
  max_watts: number;
  cost_hkd: number;
  phase: number;
  state: FarmState;
  ordered_on: string | null;
  active_from: string | null;
  retired_on: string | null;
  cpu_overcommit: number;
  memory_overcommit: number;
  is_local: boolean;
}

const asDate = (d: string | null | undefined) =>
  d === undefined ? undefined : d === null ? null : sql<Date>`${d}::date`;

export async function insertFarm(db: Executor, v: FarmValues): Promise<string> {
  const r = await db
    .insertInto('farms')
    .values({
      ...v,
      ordered_on: asDate(v.ordered_on) ?? null,
      active_from: asDate(v.active_from) ?? null,
      retired_on: asDate(v.retired_on) ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

export async function updateFarm(db: Executor, id: string, patch: Partial<FarmValues>): Promise<void> {
  const { ordered_on, active_from, retired_on, ...rest } = patch;
  await db
    .updateTable('farms')
    .set({
      ...rest,
      ordered_on: asDate(ordered_on),
      active_from: asDate(active_from),
      retired_on: asDate(retired_on),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .execute();
}

/** Reserved slots per farm and service: what each farm holds and for whom. */
export async function reservationsByFarmAndService(db: Executor) {
  const rows = await db
    .selectFrom('reservations')
    .select((eb) => [
      'farm_id',
      'service_id',
      eb.fn.countAll<string>().as('slots'),
      eb.fn.sum<string>('memory_mb').as('memory_mb'),
      eb.fn.sum<string>('cpu').as('cpu'),
      eb.fn.sum<string>('storage_mb').as('storage_mb'),
    ])
    .groupBy(['farm_id', 'service_id'])
    .execute();
  return rows.map((r) => ({
    farmId: r.farm_id,
    serviceId: r.service_id,
    slots: Number(r.slots),
    memoryMb: Number(r.memory_mb),
    cpu: Number(r.cpu),
    storageMb: Number(r.storage_mb),
  }));
}

export async function countReservations(db: Executor, farmId: string) {
  const r = await db
    .selectFrom('reservations')
    .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.count<string>('service_id').distinct().as('s')])
    .where('farm_id', '=', farmId)
    .executeTakeFirstOrThrow();
  return { slots: Number(r.n), services: Number(r.s) };
}
