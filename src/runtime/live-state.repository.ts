import type { Executor } from '../platform/database.ts';
import type { LiveInstance } from './runtime-work.ts';
import './runtime.tables.ts';

/** What the runtime lease holder publishes about the instances it runs. */
export interface LiveSnapshot {
  instances: LiveInstance[];
  services: { serviceId: string; runAs: unknown; failedInstance: string | null }[];
  state: Record<string, unknown>;
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
