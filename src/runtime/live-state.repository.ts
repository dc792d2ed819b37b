import { isDeepStrictEqual } from 'node:util';
import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { Route, RouteTable } from '../router/route-table.ts';
import type { LiveInstance } from './runtime-work.ts';
import './runtime.tables.ts';

/** What the runtime lease holder publishes about the instances it runs. */
export interface LiveSnapshot {
  instances: LiveInstance[];
  services: { serviceId: string; runAs: unknown; failedInstance: string | null }[];
  state: Record<string, unknown>;
  /** The routes the holder's router has: published as `routes` with a version from the store. */
  routes?: Route[];
  /** Published with the routes, their keys SEALED (decision 031): the store holds no clear key. */
  certificates?: NonNullable<RouteTable['certificates']>;
}

/**
 * Replaces the published snapshot with `snap` (call in the transaction that checks the lease).
 * Rows of services deleted meanwhile are skipped rather than failing the whole snapshot.
 */
export async function writeSnapshot(trx: Executor, snap: LiveSnapshot): Promise<void> {
  const known = new Set(
    (
      await trx
        .selectFrom('services')
        .select('id')
        .where('id', 'in', [
          '00000000-0000-0000-0000-000000000000',
          ...snap.instances.map((i) => i.serviceId),
          ...snap.services.map((s) => s.serviceId),
        ])
        .execute()
    ).map((r) => r.id),
  );
  await trx.deleteFrom('runtime_instances').execute();
  const instances = snap.instances.filter((i) => known.has(i.serviceId));
  if (instances.length > 0) {
    await trx
      .insertInto('runtime_instances')
      .values(
        instances.map(({ serving, ...status }) => ({
          instance_id: status.instanceId,
          service_id: status.serviceId,
          status: JSON.stringify(status),
          serving,
        })),
      )
      .execute();
  }
  await trx.deleteFrom('runtime_services').execute();
  const services = snap.services.filter((s) => known.has(s.serviceId));
  if (services.length > 0) {
    await trx
      .insertInto('runtime_services')
      .values(
        services.map((s) => ({
          service_id: s.serviceId,
          run_as: s.runAs === null ? null : JSON.stringify(s.runAs),
          failed_instance: s.failedInstance,
        })),
      )
      .execute();
  }
  if (snap.routes) await publishRoutes(trx, snap.routes, snap.certificates ?? []);
  for (const [name, value] of Object.entries(snap.state)) {
    await trx
      .insertInto('runtime_state')
      .values({ name, value: JSON.stringify(value) })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: JSON.stringify(value) }))
      .execute();
  }
}

/** A service's instances as the holder last published them (the caller has authorised the service). */
export async function liveInstances(db: Executor, serviceId: string): Promise<LiveInstance[]> {
  const rows = await db
    .selectFrom('runtime_instances')
    .select(['status', 'serving'])
    .where('service_id', '=', serviceId)
    .orderBy('instance_id')
    .execute();
  return rows.map((r) => ({ ...(r.status as Omit<LiveInstance, 'serving'>), serving: r.serving }));
}

export async function liveService(db: Executor, serviceId: string) {
  return db
    .selectFrom('runtime_services')
    .select(['run_as', 'failed_instance'])
    .where('service_id', '=', serviceId)
    .executeTakeFirst();
}

export async function liveState(db: Executor, name: string): Promise<unknown> {
  const row = await db
    .selectFrom('runtime_state')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirst();
  return row?.value ?? null;
}

/**
 * The next route-table version (decision 028): a counter row in the store, raised in one
 * statement (the row lock orders concurrent callers), so versions only grow, whichever replica
 * holds the runtime lease and whatever its clock says. It starts from the database's clock in ms,
 * above the clock-based versions of earlier releases that routers may hold, and above `atLeast`
 * (a version a router is known to hold).
 */
export async function nextRouteVersion(db: Executor, atLeast = 0): Promise<number> {
  const { rows } = await sql<{ v: string }>`
    insert into runtime_state (name, value)
    values (
      'route-version',
      to_jsonb(greatest(
        (extract(epoch from clock_timestamp()) * 1000)::bigint,
        coalesce((select (value ->> 'version')::bigint from runtime_state where name = 'routes'), 0) + 1,
        ${atLeast}::bigint + 1
      ))
    )
    on conflict (name) do update
      set value = to_jsonb(greatest((runtime_state.value #>> '{}')::bigint + 1, ${atLeast}::bigint + 1)),
          updated_at = now()
    returning value #>> '{}' as v`.execute(db);
  return Number(rows[0]!.v);
}

/**
 * Stores the published route table (row `routes`): a new version only when the routes differ from
 * the stored ones, so the table stays the same while nothing changes.
 */
async function publishRoutes(
  trx: Executor,
  routes: Route[],
  certificates: NonNullable<RouteTable['certificates']>,
): Promise<void> {
  const stored = (await liveState(trx, 'routes')) as RouteTable | null;
  // As the store gives it back: JSON drops undefined members (jsonb also reorders keys, which
  // isDeepStrictEqual does not mind).
  const plain = JSON.parse(
    JSON.stringify({ routes, ...(certificates.length > 0 ? { certificates } : {}) }),
  ) as Omit<RouteTable, 'version'>;
  if (
    stored &&
    isDeepStrictEqual(stored.routes, plain.routes) &&
    isDeepStrictEqual(stored.certificates, plain.certificates)
  )
    return;
  const table: RouteTable = { version: await nextRouteVersion(trx), ...plain };
  await trx
    .insertInto('runtime_state')
    .values({ name: 'routes', value: JSON.stringify(table) })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value: JSON.stringify(table) }))
    .execute();
}

/** The published table's version alone: what waiting long polls check (a cheap read). */
export async function publishedRoutesVersion(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('runtime_state')
    .select(sql<string | null>`value ->> 'version'`.as('version'))
    .where('name', '=', 'routes')
    .executeTakeFirst();
  return row?.version ? Number(row.version) : 0;
}
