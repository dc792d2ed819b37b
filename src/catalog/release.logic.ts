import { recordChange } from '../audit/audit.logic.ts';
import type { Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { SecretBox } from '../platform/secrets.ts';
import { auditContext, type Caller } from '../tenancy/principal.ts';
import type { DeploymentState } from './catalog.tables.ts';
import type { AppManifest } from './manifest.ts';
import type { DeploymentRow, EnvRow, ReleaseRow } from './release.repository.ts';
import * as repo from './release.repository.ts';

export const MASK = '••••••';

export interface Release {
  version: number;
  status: string;
  kind: 'process' | 'static';
  command: string | null;
  bundle: string;
  droplet: string | null;
  description: string;
  instances: number;
  memoryMb: number;
  failureReason: string | null;
  createdBy: string;
  createdAt: string;
}

export const presentRelease = (r: ReleaseRow): Release => {
  const m = r.manifest as AppManifest;
  return {
    version: r.version,
    status: r.status,
    kind: r.kind,
    command: r.command,
    bundle: r.bundle_sha256,
    droplet: r.droplet_sha256,
    description: r.description,
    instances: m.instances,
    memoryMb: m.memoryMb,
    failureReason: r.failure_reason,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
  };
};

export interface Deployment {
  id: string;
  kind: string;
  state: DeploymentState;
  message: string;
  release: number | null;
  createdBy: string;
  startedAt: string;
  finishedAt: string | null;
}

export async function presentDeployment(db: Executor, d: DeploymentRow): Promise<Deployment> {
  const release = d.release_id ? await repo.getRelease(db, d.release_id) : undefined;
  return {
    id: d.id,
    kind: d.kind,
    state: d.state,
    message: d.message,
    release: release?.version ?? null,
    createdBy: d.created_by,
    startedAt: d.started_at.toISOString(),
    finishedAt: d.finished_at?.toISOString() ?? null,
  };
}

/** A service's environment variables, with secrets opened (for a release) or masked (for people). */
export async function serviceEnv(db: Executor, box: SecretBox, serviceId: string, reveal: boolean) {
  const rows = await repo.listEnv(db, serviceId);
  return rows.map((r) => ({
    key: r.key,
    secret: r.secret,
    value: r.secret ? (reveal ? box.open(r.value) : MASK) : r.value,
  }));
}

/** The environment a new release runs with: the manifest's `env`, overridden by the service's variables. */
async function releaseEnv(
  db: Executor,
  box: SecretBox,
  serviceId: string,
  manifest: AppManifest,
): Promise<string> {
  const env: Record<string, string> = { ...manifest.env };
  for (const v of await serviceEnv(db, box, serviceId, true)) env[v.key] = v.value;
  return box.seal(JSON.stringify(env));
}

export interface NewRelease {
  serviceId: string;
  departmentId: string;
  serviceKey: string;
  bundleSha256: string;
  kind: 'process' | 'static';
  command: string | null;
  manifest: AppManifest;
  description: string;
  /** deploy, env, rollback */
  change: string;
  /** For a rollback: the old release's sealed environment, restored as it was. */
  envSealed?: string;
  /** The droplet it runs, when it reuses one (rollback, variables); else staged at rollout. */
  dropletSha256?: string | null;
  /** Said in the deployment's first message after `vN queued`, e.g. the builder chosen. */
  queued?: string;
  /** Stage without the dependency cache (`deploy --no-cache`): kept on the queued deployment. */
  noCache?: boolean;
}

/**
 * Records an immutable release and the deployment that will roll it out, with one audit record.
 * Call inside a transaction.
 */
export async function recordRelease(
  trx: Executor,
  caller: Caller,
  box: SecretBox,
  input: NewRelease,
): Promise<{ release: ReleaseRow; deployment: DeploymentRow }> {
  if ((await repo.runningDeployments(trx, input.serviceId)).length > 0) {
    throw new DomainError(
      'GOVHOST_DEPLOY_IN_PROGRESS',
      `a deploy of ${input.serviceKey} is still running; wait for it to finish`,
    );
  }
  const release = await repo.insertRelease(trx, {
    service_id: input.serviceId,
    version: await repo.nextVersion(trx, input.serviceId),
    bundle_sha256: input.bundleSha256,
    droplet_sha256: input.dropletSha256 ?? null,
    kind: input.kind,
    command: input.command,
    manifest: input.manifest,
    env_sealed: input.envSealed ?? (await releaseEnv(trx, box, input.serviceId, input.manifest)),
    description: input.description,
    created_by: caller.username,
  });
  const deployment = await repo.insertDeployment(trx, {
    service_id: input.serviceId,
    release_id: release.id,
    kind: input.change,
    created_by: caller.username,
    no_cache: input.noCache === true,
    message: `v${release.version} queued${input.queued ? `; ${input.queued}` : ''}`,
  });
  await recordChange(trx, auditContext(caller), {
    action: `release.${input.change}`,
    targetType: 'service',
    targetId: input.serviceKey,
    departmentId: input.departmentId,
    after: presentRelease(release),
  });
  return { release, deployment };
}

/** Applies variable changes to a service; secrets are sealed before they are stored. */
export async function changeEnv(
  trx: Executor,
  box: SecretBox,
  serviceId: string,
  set: { key: string; value: string; secret: boolean }[],
  unset: string[],
): Promise<{ before: EnvRow[]; after: EnvRow[] }> {
  const before = await repo.listEnv(trx, serviceId);
  const next = new Map(before.map((r) => [r.key, r]));
  for (const key of unset) {
    if (!next.delete(key)) throw new DomainError('GOVHOST_NOT_FOUND', `no variable ${key} is set`);
  }
  for (const v of set)
    next.set(v.key, { key: v.key, secret: v.secret, value: v.secret ? box.seal(v.value) : v.value });
  const after = [...next.values()].sort((a, b) => a.key.localeCompare(b.key));
  await repo.replaceEnv(trx, serviceId, after);
  return { before, after };
}

/** Variables as the audit trail keeps them: secrets never in clear, not even sealed. */
export const auditableEnv = (rows: EnvRow[]) =>
  Object.fromEntries(rows.map((r) => [r.key, r.secret ? MASK : r.value]));

/** Puts a service's variables back to those sealed in a release (rollback restores configuration too). */
export async function restoreEnvFromRelease(
  trx: Executor,
  box: SecretBox,
  serviceId: string,
  release: ReleaseRow,
) {
  const previous = new Map((await repo.listEnv(trx, serviceId)).map((r) => [r.key, r]));
  const env = JSON.parse(box.open(release.env_sealed)) as Record<string, string>;
  const manifestEnv = (release.manifest as AppManifest).env;
  const rows: EnvRow[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (manifestEnv[key] === value && !previous.has(key)) continue;
    const secret = previous.get(key)?.secret ?? false;
    rows.push({ key, secret, value: secret ? box.seal(value) : value });
  }
  await repo.replaceEnv(trx, serviceId, rows);
}
