import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';
import type { DeploymentState, ReleaseStatus } from './catalog.tables.ts';
import { recordLifecycle } from './lifecycle.repository.ts';

export interface ReleaseRow {
  id: string;
  service_id: string;
  version: number;
  bundle_sha256: string;
  droplet_sha256: string | null;
  kind: 'process' | 'static';
  command: string | null;
  manifest: unknown;
  env_sealed: string;
  description: string;
  status: ReleaseStatus;
  failure_reason: string | null;
  created_by: string;
  created_at: Date;
}

export async function nextVersion(db: Executor, serviceId: string): Promise<number> {
  const row = await db
    .selectFrom('releases')
    .select((eb) => eb.fn.max('version').as('v'))
    .where('service_id', '=', serviceId)
    .executeTakeFirst();
  return Number(row?.v ?? 0) + 1;
}

export async function insertRelease(
  db: Executor,
  row: Omit<ReleaseRow, 'id' | 'created_at' | 'status' | 'failure_reason' | 'droplet_sha256'> & {
    droplet_sha256?: string | null;
  },
): Promise<ReleaseRow> {
  const values = { ...row, manifest: sql`${JSON.stringify(row.manifest)}::text::jsonb` };
  return (await db
    .insertInto('releases')
    .values(values)
    .returningAll()
    .executeTakeFirstOrThrow()) as ReleaseRow;
}

export async function getRelease(db: Executor, id: string) {
  return (await db.selectFrom('releases').selectAll().where('id', '=', id).executeTakeFirst()) as
    | ReleaseRow
    | undefined;
}

export async function findReleaseByVersion(db: Executor, serviceId: string, version: number) {
  return (await db
    .selectFrom('releases')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('version', '=', version)
    .executeTakeFirst()) as ReleaseRow | undefined;
}

export async function listReleases(db: Executor, serviceId: string, limit: number): Promise<ReleaseRow[]> {
  return (await db
    .selectFrom('releases')
    .selectAll()
    .where('service_id', '=', serviceId)
    .orderBy('version', 'desc')
    .limit(limit)
    .execute()) as ReleaseRow[];
}

export async function setReleaseStatus(
  db: Executor,
  id: string,
  status: ReleaseStatus,
  reason: string | null = null,
) {
  await db.updateTable('releases').set({ status, failure_reason: reason }).where('id', '=', id).execute();
}

/** The department a service belongs to. */
export async function departmentOfService(db: Executor, serviceId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('services')
    .select('department_id')
    .where('id', '=', serviceId)
    .executeTakeFirst();
  return row?.department_id;
}

/** Points a release at the droplet it runs (set once, when its staging ends). */
export async function setReleaseDroplet(db: Executor, id: string, dropletSha256: string) {
  await db.updateTable('releases').set({ droplet_sha256: dropletSha256 }).where('id', '=', id).execute();
}

/** Bundles and droplets that releases still name: what the stores must keep. */
export async function artifactsInUse(db: Executor): Promise<{ bundles: Set<string>; droplets: Set<string> }> {
  const rows = await db.selectFrom('releases').select(['bundle_sha256', 'droplet_sha256']).execute();
  return {
    bundles: new Set(rows.map((r) => r.bundle_sha256)),
    droplets: new Set(rows.map((r) => r.droplet_sha256).filter((d): d is string => d !== null)),
  };
}

export interface RuntimeSettings {
  id: string;
  instances: number;
  memory_mb: number;
  current_release_id: string | null;
  /** The SLA tier: on Kubernetes, gold gets a disruption budget and a spread over farms. */
  sla_tier: string;
}

export async function runtimeSettings(db: Executor, serviceId: string) {
  return (await db
    .selectFrom('services')
    .select(['id', 'instances', 'memory_mb', 'current_release_id', 'sla_tier'])
    .where('id', '=', serviceId)
    .executeTakeFirst()) as RuntimeSettings | undefined;
}

/** Desired size and current release version of many services at once (the services list). */
export async function runtimeSummaries(db: Executor, serviceIds: string[]) {
  if (serviceIds.length === 0) return [];
  return db
    .selectFrom('services')
    .leftJoin('releases', 'releases.id', 'services.current_release_id')
    .select(['services.id', 'services.instances', 'releases.version'])
    .where('services.id', 'in', serviceIds)
    .execute();
}

export async function setRuntimeSettings(
  db: Executor,
  serviceId: string,
  patch: Partial<{ instances: number; memory_mb: number; current_release_id: string | null }>,
) {
  await db
    .updateTable('services')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', serviceId)
    .execute();
}

/** A planned service becomes active with its first live release. */
export async function activateIfPlanned(db: Executor, serviceId: string) {
  const changed = await db
    .updateTable('services')
    .set({ lifecycle: 'active' })
    .where('id', '=', serviceId)
    .where('lifecycle', '=', 'planned')
    .returning('id')
    .executeTakeFirst();
  if (changed) await recordLifecycle(db, serviceId, 'active');
}

export interface EnvRow {
  key: string;
  value: string;
  secret: boolean;
}

export async function listEnv(db: Executor, serviceId: string): Promise<EnvRow[]> {
  return db
    .selectFrom('service_env')
    .select(['key', 'value', 'secret'])
    .where('service_id', '=', serviceId)
    .orderBy('key')
    .execute();
}

export async function replaceEnv(db: Executor, serviceId: string, rows: EnvRow[]): Promise<void> {
  await db.deleteFrom('service_env').where('service_id', '=', serviceId).execute();
  if (rows.length > 0) {
    await db
      .insertInto('service_env')
      .values(rows.map((r) => ({ service_id: serviceId, ...r })))
      .execute();
  }
}

export interface DeploymentRow {
  id: string;
  service_id: string;
  release_id: string | null;
  kind: string;
  state: DeploymentState;
  message: string;
  created_by: string;
  started_at: Date;
  finished_at: Date | null;
  replace_all: boolean;
  no_cache: boolean;
}

export async function insertDeployment(
  db: Executor,
  row: {
    service_id: string;
    release_id: string | null;
    kind: string;
    created_by: string;
    message?: string;
    replace_all?: boolean;
    no_cache?: boolean;
  },
): Promise<DeploymentRow> {
  return (await db
    .insertInto('deployments')
    .values(row)
    .returningAll()
    .executeTakeFirstOrThrow()) as DeploymentRow;
}

export async function finishDeployment(db: Executor, id: string, state: DeploymentState, message: string) {
  await db
    .updateTable('deployments')
    .set({ state, message, finished_at: new Date() })
    .where('id', '=', id)
    .execute();
}

export async function setDeploymentMessage(db: Executor, id: string, message: string) {
  await db.updateTable('deployments').set({ message }).where('id', '=', id).execute();
}

export async function getDeployment(db: Executor, id: string) {
  return (await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst()) as
    | DeploymentRow
    | undefined;
}

export async function runningDeployments(db: Executor, serviceId?: string): Promise<DeploymentRow[]> {
  let q = db.selectFrom('deployments').selectAll().where('state', '=', 'running');
  if (serviceId) q = q.where('service_id', '=', serviceId);
  return (await q.orderBy('started_at').execute()) as DeploymentRow[];
}

export async function latestDeployment(db: Executor, serviceId: string) {
  return (await db
    .selectFrom('deployments')
    .selectAll()
    .where('service_id', '=', serviceId)
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst()) as DeploymentRow | undefined;
}

/** A service's deployments, newest first, one page of them with the count of all. */
export async function listDeployments(
  db: Executor,
  serviceId: string,
  page: { limit: number; offset: number },
): Promise<{ items: DeploymentRow[]; total: number }> {
  const items = (await db
    .selectFrom('deployments')
    .selectAll()
    .where('service_id', '=', serviceId)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute()) as DeploymentRow[];
  const { n } = await db
    .selectFrom('deployments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('service_id', '=', serviceId)
    .executeTakeFirstOrThrow();
  return { items, total: Number(n) };
}

/**
 * The runtime's queue: deployments still to run (or interrupted), oldest first, with what names
 * their service. Across departments: only the runtime lease holder reads it.
 */
export async function queuedDeployments(db: Executor) {
  return db
    .selectFrom('deployments')
    .innerJoin('services', 'services.id', 'deployments.service_id')
    .innerJoin('departments', 'departments.id', 'services.department_id')
    .select([
      'deployments.id',
      'deployments.kind',
      'deployments.release_id',
      'deployments.replace_all',
      'deployments.no_cache',
      'services.id as service_id',
      'services.slug',
      'departments.code as department_code',
    ])
    .where('deployments.state', '=', 'running')
    .orderBy('deployments.started_at')
    .execute();
}

/** Every service that has a release to run, across departments: what reconciliation restores. */
export async function servicesToRun(db: Executor) {
  return db
    .selectFrom('services')
    .innerJoin('departments', 'departments.id', 'services.department_id')
    .select([
      'services.id',
      'services.slug',
      'services.department_id',
      'services.sla_tier',
      'departments.code as department_code',
      'services.instances',
      'services.memory_mb',
      'services.current_release_id',
      'services.lifecycle',
    ])
    .where('services.current_release_id', 'is not', null)
    .execute();
}

/** A service's OS user as the store has it. */
export interface RunUserRow {
  id: string;
  lifecycle: string;
  current_release_id: string | null;
  run_uid: number | null;
  run_user: string | null;
}

/** Every service with its OS user (or none): the runtime keeps the OS users matching this list. */
export async function runUsers(db: Executor): Promise<RunUserRow[]> {
  return db
    .selectFrom('services')
    .select(['id', 'lifecycle', 'current_release_id', 'run_uid', 'run_user'])
    .execute() as Promise<RunUserRow[]>;
}

/** Records the OS user a service runs as (null: it has none any more). */
export async function setRunUser(
  db: Executor,
  serviceId: string,
  user: { uid: number; name: string } | null,
) {
  await db
    .updateTable('services')
    .set({ run_uid: user?.uid ?? null, run_user: user?.name ?? null })
    .where('id', '=', serviceId)
    .execute();
}
