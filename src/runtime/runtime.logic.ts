import type { Readable } from 'node:stream';
import { recordChange } from '../audit/audit.logic.ts';
import type { BlobStore } from '../blobs/blob-store.ts';
import type { Build } from '../build/build.logic.ts';
import { releaseDemand, runsNow, transactionWithAdmission } from '../capacity/admission.ts';
import { inspectBundle } from '../catalog/bundle-inspect.ts';
import { saveBundle } from '../catalog/bundle-store.ts';
import * as rel from '../catalog/release.logic.ts';
import * as repo from '../catalog/release.repository.ts';
import { listServices, resolveService, serviceHostname } from '../catalog/service.logic.ts';
import { claimManifestRoutes } from '../edge/domains.logic.ts';
import type { Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { Page } from '../platform/pagination.ts';
import type { SecretBox } from '../platform/secrets.ts';
import { auditContext, authorize, type Caller, type Principal } from '../tenancy/principal.ts';
import type { LogFile } from './logs.ts';
import type { RuntimeWork } from './runtime-work.ts';

export interface RuntimeDeps {
  db: Db;
  box: SecretBox;
  /** The orchestrator on the runtime lease's holder; the queue and published state elsewhere. */
  work: RuntimeWork;
  build: Build;
  /** Where uploaded bundles are kept. */
  bundles: BlobStore;
  bundleLimit: number;
  domain: string;
  /** The host the API and console answer at: never claimable as a custom domain. */
  apiHost: string;
  /** Where citizens reach a host name: the router's scheme, host name and port. */
  publicUrl: (hostname: string) => string;
}

const BUNDLE_LIMITS = { maxFiles: 20_000, maxUnpackedBytes: 1024 ** 3 };

/** Removes a stored bundle that no release uses (a rejected or refused deploy's). */
async function dropUnusedBundle(deps: RuntimeDeps, sha256: string) {
  const used = await deps.db
    .selectFrom('releases')
    .select('id')
    .where('bundle_sha256', '=', sha256)
    .executeTakeFirst();
  if (!used) await deps.bundles.delete(sha256);
}

async function target(
  deps: RuntimeDeps,
  caller: Principal,
  department: string,
  slug: string,
  write: boolean,
) {
  const svc = await resolveService(deps.db, caller, department, slug);
  authorize(caller, write ? 'service:write' : 'service:read');
  return {
    row: svc,
    ref: { id: svc.id, slug: svc.slug, departmentCode: svc.department_code },
    key: `${svc.department_code}/${svc.slug}`,
  };
}

/** Stores and checks an uploaded bundle, records a release, and starts rolling it out. */
export async function deploy(
  deps: RuntimeDeps,
  caller: Caller,
  department: string,
  slug: string,
  body: Readable,
  opts: { noCache?: boolean } = {},
) {
  const t = await target(deps, caller, department, slug, true);
  const saved = await saveBundle(deps.bundles, body, deps.bundleLimit);
  let info: Awaited<ReturnType<typeof inspectBundle>>;
  let builder: Awaited<ReturnType<Build['detect']>>;
  try {
    info = await inspectBundle(saved.path, BUNDLE_LIMITS);
    // The builder is chosen now, so an app no builder can stage is refused at once, saying why.
    builder = await deps.build.detect({
      entries: info.entries,
      contents: info.contents,
      buildpacks: info.manifest.buildpacks,
      kind: info.kind,
      command: info.command,
    });
  } catch (err) {
    await dropUnusedBundle(deps, saved.sha256);
    throw err;
  }
  let recorded: Awaited<ReturnType<typeof rel.recordRelease>>;
  try {
    recorded = await transactionWithAdmission(deps.db, async (trx, admit) => {
      const r = await rel.recordRelease(trx, caller, deps.box, {
        serviceId: t.row.id,
        departmentId: t.row.department_id,
        serviceKey: t.key,
        bundleSha256: saved.sha256,
        kind: info.kind,
        command: info.command,
        manifest: info.manifest,
        description: `deploy of bundle ${saved.sha256.slice(0, 12)}`,
        change: 'deploy',
        queued: `builder ${builder.description}`,
        noCache: opts.noCache === true,
      });
      // The size the rollout will run: the manifest's for a first release, the service's after.
      const settings = await repo.runtimeSettings(trx, t.row.id);
      const size = settings?.current_release_id
        ? { instances: settings.instances, memoryMb: settings.memory_mb }
        : { instances: info.manifest.instances, memoryMb: info.manifest.memoryMb };
      if (runsNow(t.row.lifecycle)) await admit(releaseDemand(t.row, r.release, size));
      return r;
    });
  } catch (err) {
    // Nothing of a refused deploy stays: not its release, nor its bundle if no release uses it.
    await dropUnusedBundle(deps, saved.sha256);
    throw err;
  }
  const { release, deployment } = recorded;
  void deps.work.rollout(t.ref, deployment.id, release.id, { noCache: opts.noCache === true });
  // The manifest's routes: become pending claims (never removals); each name's fate is said.
  const routes = await claimManifestRoutes(
    { db: deps.db, platform: { domain: deps.domain, apiHost: deps.apiHost } },
    caller,
    t.row,
    info.manifest.routes,
  );
  return {
    deployment: await rel.presentDeployment(deps.db, deployment),
    release: rel.presentRelease(release),
    builder: builder.description,
    warnings: [...info.warnings, ...builder.warnings, ...routes],
  };
}

/** Rolls back to an earlier release (default: the one before the current), code and configuration together. */
export async function rollback(
  deps: RuntimeDeps,
  caller: Caller,
  department: string,
  slug: string,
  toVersion?: number,
) {
  const t = await target(deps, caller, department, slug, true);
  const { release, deployment } = await transactionWithAdmission(deps.db, async (trx, admit) => {
    const current = t.row.id ? await repo.runtimeSettings(trx, t.row.id) : undefined;
    const currentRelease = current?.current_release_id
      ? await repo.getRelease(trx, current.current_release_id)
      : undefined;
    let old: repo.ReleaseRow | undefined;
    if (toVersion !== undefined) old = await repo.findReleaseByVersion(trx, t.row.id, toVersion);
    else {
      const history = await repo.listReleases(trx, t.row.id, 100);
      old = history.find(
        (r) => r.status === 'superseded' && r.version < (currentRelease?.version ?? Number.MAX_SAFE_INTEGER),
      );
    }
    if (!old) {
      throw new DomainError(
        'GOVHOST_RELEASE_NOT_FOUND',
        toVersion ? `${t.key} has no release v${toVersion}` : `${t.key} has no earlier release`,
      );
    }
    await rel.restoreEnvFromRelease(trx, deps.box, t.row.id, old);
    // The old release may run differently (a static site or a process): its capacity is checked.
    if (current && runsNow(t.row.lifecycle)) {
      await admit(releaseDemand(t.row, old, { instances: current.instances, memoryMb: current.memory_mb }));
    }
    return rel.recordRelease(trx, caller, deps.box, {
      serviceId: t.row.id,
      departmentId: t.row.department_id,
      serviceKey: t.key,
      bundleSha256: old.bundle_sha256,
      // The old release's droplet runs again: a rollback never builds.
      dropletSha256: old.droplet_sha256,
      kind: old.kind,
      command: old.command,
      manifest: old.manifest as never,
      description: `rollback to v${old.version}`,
      change: 'rollback',
      envSealed: old.env_sealed,
    });
  });
  void deps.work.rollout(t.ref, deployment.id, release.id);
  return {
    deployment: await rel.presentDeployment(deps.db, deployment),
    release: rel.presentRelease(release),
  };
}

/** Sets and unsets variables; a running service gets a new release with them, rolled out at once. */
export async function changeEnv(
  deps: RuntimeDeps,
  caller: Caller,
  department: string,
  slug: string,
  change: { set: { key: string; value: string; secret: boolean }[]; unset: string[] },
) {
  const t = await target(deps, caller, department, slug, true);
  const result = await transactionWithAdmission(deps.db, async (trx, admit) => {
    const { before, after } = await rel.changeEnv(trx, deps.box, t.row.id, change.set, change.unset);
    await recordChange(trx, auditContext(caller), {
      action: 'service.env',
      targetType: 'service',
      targetId: t.key,
      departmentId: t.row.department_id,
      before: rel.auditableEnv(before),
      after: rel.auditableEnv(after),
    });
    const settings = await repo.runtimeSettings(trx, t.row.id);
    const current = settings?.current_release_id
      ? await repo.getRelease(trx, settings.current_release_id)
      : undefined;
    if (!current) return null;
    // The redeploy starts every instance anew: it is admitted like any rollout, on what the
    // platform has now, or refused with the variables left as they were.
    if (settings && runsNow(t.row.lifecycle)) {
      await admit(
        releaseDemand(t.row, current, { instances: settings.instances, memoryMb: settings.memory_mb }),
      );
    }
    const keys = [...change.set.map((s) => s.key), ...change.unset].join(', ');
    return rel.recordRelease(trx, caller, deps.box, {
      serviceId: t.row.id,
      departmentId: t.row.department_id,
      serviceKey: t.key,
      bundleSha256: current.bundle_sha256,
      // The same droplet with new variables, as on Heroku: a variable change does not build.
      dropletSha256: current.droplet_sha256,
      kind: current.kind,
      command: current.command,
      manifest: current.manifest as never,
      description: `environment change: ${keys}`,
      change: 'env',
    });
  });
  if (result) void deps.work.rollout(t.ref, result.deployment.id, result.release.id);
  return {
    variables: await rel.serviceEnv(deps.db, deps.box, t.row.id, false),
    deployment: result ? await rel.presentDeployment(deps.db, result.deployment) : null,
  };
}

export async function listEnv(deps: RuntimeDeps, caller: Principal, department: string, slug: string) {
  const t = await target(deps, caller, department, slug, false);
  return rel.serviceEnv(deps.db, deps.box, t.row.id, false);
}

/** Changes the number of instances and/or their memory; a memory change replaces every instance. */
export async function scale(
  deps: RuntimeDeps,
  caller: Caller,
  department: string,
  slug: string,
  input: { instances?: number; memoryMb?: number },
) {
  const t = await target(deps, caller, department, slug, true);
  const deployment = await transactionWithAdmission(deps.db, async (trx, admit) => {
    const before = await repo.runtimeSettings(trx, t.row.id);
    if (!before) throw new DomainError('GOVHOST_SERVICE_NOT_FOUND');
    if ((await repo.runningDeployments(trx, t.row.id)).length > 0) {
      throw new DomainError(
        'GOVHOST_DEPLOY_IN_PROGRESS',
        `a deploy of ${t.key} is still running; wait for it to finish`,
      );
    }
    await repo.setRuntimeSettings(trx, t.row.id, { instances: input.instances, memory_mb: input.memoryMb });
    // Only a deployed, running service holds capacity; a first deploy sizes from its manifest.
    const current = before.current_release_id
      ? await repo.getRelease(trx, before.current_release_id)
      : undefined;
    if (current && runsNow(t.row.lifecycle)) {
      await admit(
        releaseDemand(t.row, current, {
          instances: input.instances ?? before.instances,
          memoryMb: input.memoryMb ?? before.memory_mb,
        }),
      );
    }
    await recordChange(trx, auditContext(caller), {
      action: 'service.scale',
      targetType: 'service',
      targetId: t.key,
      departmentId: t.row.department_id,
      before: { instances: before.instances, memoryMb: before.memory_mb },
      after: { instances: input.instances ?? before.instances, memoryMb: input.memoryMb ?? before.memory_mb },
    });
    const memoryChanged = input.memoryMb !== undefined && input.memoryMb !== before.memory_mb;
    const d = await repo.insertDeployment(trx, {
      service_id: t.row.id,
      release_id: before.current_release_id,
      kind: 'scale',
      created_by: caller.username,
      replace_all: memoryChanged,
    });
    return { d, memoryChanged };
  });
  void deps.work.scale(t.ref, deployment.d.id, deployment.memoryChanged);
  return rel.presentDeployment(deps.db, deployment.d);
}

export async function status(deps: RuntimeDeps, caller: Principal, department: string, slug: string) {
  const t = await target(deps, caller, department, slug, false);
  const settings = await repo.runtimeSettings(deps.db, t.row.id);
  const current = settings?.current_release_id
    ? await repo.getRelease(deps.db, settings.current_release_id)
    : undefined;
  const latest = await repo.latestDeployment(deps.db, t.row.id);
  const versions = new Map((await repo.listReleases(deps.db, t.row.id, 1000)).map((r) => [r.id, r.version]));
  return {
    service: t.key,
    hostname: serviceHostname(t.row.slug, t.row.department_code, deps.domain),
    url: deps.publicUrl(serviceHostname(t.row.slug, t.row.department_code, deps.domain)),
    desired: { instances: settings?.instances ?? 0, memoryMb: settings?.memory_mb ?? 0 },
    release: current ? rel.presentRelease(current) : null,
    lastDeployment: latest ? await rel.presentDeployment(deps.db, latest) : null,
    instances: (await deps.work.instances(t.row.id)).map((i) => ({
      ...i,
      release: versions.get(i.releaseId) ?? null,
    })),
    runAs: await deps.work.runAs(t.row.id),
    isolation: await deps.work.isolation(),
  };
}

/**
 * Each service's live state in one answer, for lists (the console's services page polls it):
 * the desired size, the serving release and how many instances are up, without a status call
 * per service. Same filters, order and paging as the catalog's list.
 */
export async function summaries(
  deps: RuntimeDeps,
  caller: Principal,
  page: Page,
  filter: { department?: string },
) {
  const list = await listServices({ db: deps.db, domain: deps.domain }, caller, page, filter);
  const ids = new Map(list.items.map((s) => [s.id, s]));
  const rows = new Map((await repo.runtimeSummaries(deps.db, [...ids.keys()])).map((r) => [r.id, r]));
  const live = new Map(
    await Promise.all(list.items.map(async (s) => [s.id, await deps.work.instances(s.id)] as const)),
  );
  return {
    ...list,
    items: list.items.map((s) => {
      const instances = live.get(s.id) ?? [];
      const row = rows.get(s.id);
      return {
        service: `${s.department}/${s.slug}`,
        lifecycle: s.lifecycle,
        desiredInstances: row?.instances ?? 0,
        release: row?.version ?? null,
        instances: instances.length,
        running: instances.filter((i) => i.state === 'healthy' && i.serving).length,
      };
    }),
  };
}

export async function releases(deps: RuntimeDeps, caller: Principal, department: string, slug: string) {
  const t = await target(deps, caller, department, slug, false);
  return (await repo.listReleases(deps.db, t.row.id, 100)).map(rel.presentRelease);
}

export async function deployment(
  deps: RuntimeDeps,
  caller: Principal,
  department: string,
  slug: string,
  id: string,
) {
  const t = await target(deps, caller, department, slug, false);
  const d = await repo.getDeployment(deps.db, id);
  if (!d || d.service_id !== t.row.id)
    throw new DomainError('GOVHOST_NOT_FOUND', `no deployment ${id} for ${t.key}`);
  return rel.presentDeployment(deps.db, d);
}

/**
 * Deploy history, newest first. It reads only the database, so an API process without a runtime
 * answers it too.
 */
export async function deployments(
  db: Db,
  caller: Principal,
  department: string,
  slug: string,
  page: { limit: number; offset: number },
) {
  const svc = await resolveService(db, caller, department, slug);
  authorize(caller, 'service:read');
  const { items, total } = await repo.listDeployments(db, svc.id, page);
  const out = [];
  for (const d of items) out.push(await rel.presentDeployment(db, d));
  return { items: out, total, limit: page.limit, offset: page.offset };
}

/**
 * The service's log files, as a function: it answers with the instances of the moment, and, when
 * the last rollout failed, the instance whose output says why (it has stopped; its log stays).
 */
export async function logFiles(deps: RuntimeDeps, caller: Principal, department: string, slug: string) {
  const t = await target(deps, caller, department, slug, false);
  const { work } = deps;
  const source = (instanceId: string): LogFile => {
    const path = work.logPath(instanceId);
    return path || !work.readLog
      ? { instanceId, path }
      : { instanceId, path, read: (tail) => work.readLog!(instanceId, tail) };
  };
  return async () => {
    const live = (await work.instances(t.row.id)).map((s) => source(s.instanceId));
    const failed = await work.failedInstance(t.row.id);
    if (failed && !live.some((l) => l.instanceId === failed)) live.push(source(failed));
    return live;
  };
}
