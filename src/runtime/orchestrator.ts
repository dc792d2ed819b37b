import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { type Build, instanceStart, StagingFailed } from '../build/build.logic.ts';
import type { DropletRun } from '../build/build.tables.ts';
import { decisiveLines } from '../build/decisive.ts';
import { settleReservations } from '../capacity/host-farm.ts';
import type { LifecycleState } from '../catalog/catalog.tables.ts';
import type { AppManifest } from '../catalog/manifest.ts';
import type { ReleaseRow } from '../catalog/release.repository.ts';
import * as releases from '../catalog/release.repository.ts';
import { serviceHostname } from '../catalog/service.logic.ts';
import type { HeldLease } from '../cluster/lease.ts';
import type { Db } from '../platform/database.ts';
import { Phases } from '../platform/phases.ts';
import type { SecretBox } from '../platform/secrets.ts';
import type { RouteTable } from '../router/route-table.ts';
import type { InstanceDriver, RouterControl } from './driver.ts';
import type { IsolationReport } from './local/nftables.ts';
import type { OsUser } from './local/os-users.ts';
import { defaultPath } from './local/spawn-instance.ts';
import { RouteSync, type Serving } from './route-sync.ts';
import { INSTANCE_CPU, type InstanceSpec, type InstanceStatus } from './runtime.types.ts';
import type { ServiceUsers } from './service-users.ts';
import { prepareInstanceDir, prepareWorkDir, pruneInstanceDirs, shortId } from './workdir.ts';

const STOP_GRACE_MS = 10_000;
const RESYNC_MS = 5_000;

export interface OrchestratorDeps {
  /** Replaced when the router process is started again. */
  db: Db;
  driver: InstanceDriver;
  router: RouterControl;
  box: SecretBox;
  appsDir: string;
  domain: string;
  log: FastifyBaseLogger;
  /** The OS users services run as (made on first need, removed when a service retires). */
  users: ServiceUsers;
  /** Whether service users' loopback connections are limited, and if not, why. */
  network: { status(): IsolationReport };
  /** Stages bundles into droplets and finds them again. */
  build: Build;
  /**
   * The runtime lease this process holds (none in tests of the orchestrator alone): the write that
   * makes a release current checks it, and a holder that lost it writes nothing more.
   */
  lease?: HeldLease;
}

/** How many of the end of a failed instance's log are searched for the lines that say why. */
const FAILED_LOG_BYTES = 64 * 1024;

/** How a service is kept apart from the others on this host, for status output. */
export interface IsolationStatus {
  network: IsolationReport;
  users: IsolationReport;
}

/** A release's working copy and how its droplet runs. */
interface WorkDir {
  dir: string;
  run: DropletRun;
}

interface ServiceRef {
  id: string;
  slug: string;
  departmentCode: string;
}

/** A service the router serves, as the monitoring engine watches it. */
export interface WatchedService {
  serviceId: string;
  /** `DEPT/slug`: also the router's metrics label for the service. */
  key: string;
  hostname: string;
  healthPath: string;
  kind: 'process' | 'static';
  instances: InstanceStatus[];
}

/** What an outside probe asks for: the release's HTTP health endpoint, else the home page. */
function healthPathOf(release: ReleaseRow): string {
  const hc = (release.manifest as Partial<AppManifest> | null)?.healthCheck;
  return release.kind === 'process' && hc?.type === 'http' && hc.endpoint?.startsWith('/')
    ? hc.endpoint
    : '/';
}

/**
 * Makes the running world match the desired one: rolls out releases (start new, wait healthy,
 * switch routes, drain and stop old), scales, and after a restart brings every service back.
 * One operation per service at a time; the router only ever sees healthy instances.
 */
export class Orchestrator {
  private readonly serving = new Map<string, Serving>();
  /** The instance of each service's last failed rollout, whose log `govhost logs` still shows. */
  private readonly failed = new Map<string, string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly routes: RouteSync;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: OrchestratorDeps) {
    this.routes = new RouteSync(this.serving, deps.driver, deps.router, deps.log);
    deps.driver.on('change', () => this.routes.schedulePush());
  }

  /** Runs `fn` after every earlier operation on the same service has ended. */
  private async exclusive<T>(serviceId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(serviceId) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(fn);
    this.locks.set(serviceId, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(serviceId) === run) this.locks.delete(serviceId);
    }
  }

  // ---- routes -------------------------------------------------------------------------------

  /** The route table: every serving service with its healthy serving instances. */
  routeTable(): RouteTable {
    return this.routes.routeTable();
  }

  /** Points at a new router process (the old one died and was started again) and gives it the routes. */
  replaceRouter(router: RouterControl): Promise<void> {
    return this.routes.replaceRouter(router);
  }

  /** Sends the current table to the router; resolves once the router has it. */
  pushRoutes(): Promise<void> {
    return this.routes.push();
  }

  // ---- instances ----------------------------------------------------------------------------

  private instancesOf(serviceId: string): InstanceStatus[] {
    return this.deps.driver.list().filter((s) => s.serviceId === serviceId);
  }

  private async specFor(
    svc: ServiceRef,
    release: ReleaseRow,
    settings: releases.RuntimeSettings,
    work: WorkDir,
    index: number,
    phases = new Phases(),
  ): Promise<InstanceSpec> {
    const instanceId = `${svc.departmentCode.toLowerCase()}-${svc.slug}-v${release.version}-${index}-${shortId()}`;
    const uid = await this.deps.users.uidFor(svc.id);
    // Each instance writes in its own copy of the release's folder, never in a shared one.
    const workDir = await phases.time('instance folder', () =>
      prepareInstanceDir({ releaseDir: work.dir, instanceId, uid }),
    );
    const manifest = release.manifest as AppManifest;
    const env = JSON.parse(this.deps.box.open(release.env_sealed)) as Record<string, string>;
    // A droplet's own PATH entries and variables (a Python venv) are relative to its folder.
    if (work.run.pathPrepend.length > 0) {
      env.PATH = [...work.run.pathPrepend.map((p) => join(workDir, p)), env.PATH ?? defaultPath()].join(':');
    }
    for (const [k, v] of Object.entries(work.run.pathEnv)) env[k] = join(workDir, v);
    const start = instanceStart(work.run, release.command ?? '', workDir, env.PATH ?? defaultPath());
    return {
      instanceId,
      serviceId: svc.id,
      serviceKey: `${svc.departmentCode}/${svc.slug}`,
      releaseId: release.id,
      workDir,
      command: start.command,
      env: {
        ...env,
        ...start.env,
        GOVHOST_SERVICE: `${svc.departmentCode}/${svc.slug}`,
        GOVHOST_RELEASE: `v${release.version}`,
        GOVHOST_INSTANCE_INDEX: String(index),
      },
      memoryMb: settings.memory_mb,
      cpu: INSTANCE_CPU,
      healthCheck: {
        type: manifest.healthCheck.type,
        endpoint: manifest.healthCheck.endpoint,
        startTimeoutSec: manifest.healthCheck.startTimeoutSec,
        intervalMs: 2000,
      },
      ...(uid !== null ? { uid, gid: uid } : {}),
    };
  }

  private async workDirFor(release: ReleaseRow, _settings: releases.RuntimeSettings): Promise<WorkDir> {
    let droplet = release.droplet_sha256 ? await this.deps.build.droplet(release.droplet_sha256) : null;
    if (release.droplet_sha256 && !droplet) {
      // Gone from disk (a restored backup holds bundles, not droplets; a lost disk): staged again
      // from the release's bundle, which gives the same droplet for the same inputs.
      const again = await this.ensureDroplet(
        { id: release.service_id },
        { ...release, droplet_sha256: null },
        null,
        false,
      );
      droplet = again.droplet_sha256 ? await this.deps.build.droplet(again.droplet_sha256) : null;
      if (!droplet) throw new Error(`droplet ${release.droplet_sha256.slice(0, 12)} is missing`);
    }
    const dir = await prepareWorkDir({
      appsDir: this.deps.appsDir,
      // Releases made before droplets existed run their bundle as it was uploaded.
      source: droplet
        ? { dropletDir: droplet.dir }
        : { bundlePath: await this.deps.build.bundleFile(release.bundle_sha256) },
      serviceId: release.service_id,
      version: release.version,
      uid: await this.deps.users.uidFor(release.service_id),
    });
    return { dir, run: droplet?.run ?? { pathPrepend: [], pathEnv: {} } };
  }

  /**
   * Stages a release that has no droplet yet (a deploy; rollbacks, scaling and variable changes
   * reuse their release's droplet), and points the release at it.
   */
  private async ensureDroplet(
    svc: Pick<ServiceRef, 'id'>,
    release: ReleaseRow,
    deploymentId: string | null,
    noCache: boolean,
  ) {
    if (release.droplet_sha256) return release;
    const { db } = this.deps;
    const manifest = release.manifest as AppManifest;
    const staged = await this.deps.build.stage({
      releaseId: release.id,
      serviceId: svc.id,
      departmentId: (await releases.departmentOfService(db, svc.id)) ?? '',
      bundlePath: await this.deps.build.bundleFile(release.bundle_sha256),
      bundleSha256: release.bundle_sha256,
      kind: release.kind,
      command: release.command,
      buildpacks: manifest.buildpacks ?? [],
      env: JSON.parse(this.deps.box.open(release.env_sealed)) as Record<string, string>,
      uid: await this.deps.users.uidFor(svc.id),
      noCache,
      progress: async (message) => {
        if (deploymentId)
          await releases.setDeploymentMessage(db, deploymentId, `v${release.version}: ${message}`);
        else this.deps.log.info({ release: release.id }, `v${release.version}: ${message}`);
      },
    });
    await releases.setReleaseDroplet(db, release.id, staged.sha256);
    return { ...release, droplet_sha256: staged.sha256 };
  }

  /** The lines of a failed instance's log that say why it failed (read from the end of its log). */
  private async failedLines(instanceId: string): Promise<string[]> {
    try {
      const handle = await open(this.deps.driver.logPath(instanceId), 'r');
      try {
        const { size } = await handle.stat();
        const length = Math.min(size, FAILED_LOG_BYTES);
        const buf = Buffer.alloc(length);
        await handle.read(buf, 0, length, size - length);
        // Only lines that match: an app that simply fails its check has said nothing decisive, and the
        // reason already names the check.
        return decisiveLines(buf.toString('utf8').split('\n'), 4, false);
      } finally {
        await handle.close();
      }
    } catch {
      return [];
    }
  }

  /** Starts `count` instances of a release and waits until all are healthy; on failure stops them all. */
  private async startHealthy(
    svc: ServiceRef,
    release: ReleaseRow,
    settings: releases.RuntimeSettings,
    workDir: WorkDir,
    count: number,
    firstIndex = 0,
    phases = new Phases(),
  ): Promise<string[]> {
    const ids: string[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const spec = await this.specFor(svc, release, settings, workDir, firstIndex + i, phases);
        const status = await phases.time('process start', () => this.deps.driver.start(spec));
        ids.push(status.instanceId);
      }
      await phases.time('health wait', () => Promise.all(ids.map((id) => this.deps.driver.waitHealthy(id))));
      return ids;
    } catch (err) {
      await Promise.all(ids.map((id) => this.deps.driver.stop(id, 2000).catch(() => undefined)));
      await this.pruneInstanceDirs(svc.id);
      throw err;
    }
  }

  /** The folders of a service's instances that have stopped go (their disk is ephemeral). */
  private async pruneInstanceDirs(serviceId: string): Promise<void> {
    const running = new Set(this.instancesOf(serviceId).map((s) => s.instanceId));
    await pruneInstanceDirs(this.deps.appsDir, serviceId, running).catch((err: Error) =>
      this.deps.log.warn({ err: err.message, serviceId }, 'could not remove stopped instances’ folders'),
    );
  }

  /** Takes instances out of the routes, lets their requests finish, then stops them. */
  private async retire(serviceId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const s = this.serving.get(serviceId);
    for (const id of ids) s?.instances.delete(id);
    await this.pushRoutes();
    await this.routes.drain(ids);
    await Promise.all(ids.map((id) => this.deps.driver.stop(id, STOP_GRACE_MS).catch(() => undefined)));
    await this.pruneInstanceDirs(serviceId);
  }

  // ---- operations -------------------------------------------------------------------------

  /**
   * Rolls a release out: new instances first, routes switched only once all are healthy, then the
   * old drained and stopped. A release that never becomes healthy leaves the old one serving.
   * `noCache` (`deploy --no-cache`) is the request's, not stored: a rollout resumed after a restart
   * stages with the cache.
   */
  async rollout(
    svc: ServiceRef,
    deploymentId: string,
    releaseId: string,
    opts: { noCache?: boolean } = {},
  ): Promise<void> {
    await this.exclusive(svc.id, async () => {
      const { db } = this.deps;
      const found = await releases.getRelease(db, releaseId);
      const stored = await releases.runtimeSettings(db, svc.id);
      if (!found || !stored) throw new Error('release or service vanished');
      let release = found;
      await releases.setReleaseStatus(db, release.id, 'deploying');
      const previous = stored.current_release_id;
      // The manifest sizes a service's first release; after that `scale` owns the size, so a
      // manifest without a size does not undo a scale.
      const manifest = release.manifest as AppManifest;
      const settings = previous
        ? stored
        : { ...stored, instances: manifest.instances, memory_mb: manifest.memoryMb };
      let started: string[] = [];
      let staged = false;
      // Where a deploy's seconds go, in the platform's log (docs/benchmarks.md reads it).
      const phases = new Phases();
      const startedAt = Date.now();
      try {
        release = await phases.time('stage', () =>
          this.ensureDroplet(svc, release, deploymentId, opts.noCache === true),
        );
        staged = true;
        const workDir = await phases.time('release folder', () => this.workDirFor(release, settings));
        await releases.setDeploymentMessage(
          db,
          deploymentId,
          `starting ${settings.instances} instance(s) of v${release.version}`,
        );
        if (release.kind === 'process')
          started = await this.startHealthy(svc, release, settings, workDir, settings.instances, 0, phases);
        const old = this.instancesOf(svc.id)
          .map((s) => s.instanceId)
          .filter((id) => !started.includes(id));
        await db.transaction().execute(async (trx) => {
          await this.deps.lease?.fence(trx);
          await releases.setRuntimeSettings(trx, svc.id, {
            current_release_id: release.id,
            instances: settings.instances,
            memory_mb: settings.memory_mb,
          });
          await releases.activateIfPlanned(trx, svc.id);
          await releases.setReleaseStatus(trx, release.id, 'live');
          if (previous && previous !== release.id)
            await releases.setReleaseStatus(trx, previous, 'superseded');
        });
        this.serving.set(svc.id, this.servingEntry(svc, release, workDir.dir, started));
        this.failed.delete(svc.id);
        await phases.time('route push', () => this.pushRoutes());
        this.deps.log.info(
          {
            service: `${svc.departmentCode}/${svc.slug}`,
            release: `v${release.version}`,
            startedAt,
            ms: Math.round(phases.elapsedMs()),
            phases: phases.toJSON(),
          },
          `v${release.version} serving ${(phases.elapsedMs() / 1000).toFixed(2)} s after its rollout began (${phases.summary()})`,
        );
        await this.retire(svc.id, old);
        await releases.finishDeployment(db, deploymentId, 'succeeded', `v${release.version} is live`);
      } catch (err) {
        // The lease moved: the new holder runs this deployment again; this one writes nothing.
        if (this.deps.lease?.signal.aborted) throw err;
        // The full reason, with the app's last log lines, stays with the release; the deployment
        // says it in one line.
        const reason = (err as Error).message;
        const still = previous ? ' The previous release is still serving.' : '';
        // The capacity admitted for this release goes back before the deployment ends (so before
        // another deploy of the service may be admitted): the previous release keeps exactly
        // what it needs, and a first release that never served holds nothing.
        await db
          .transaction()
          .execute((trx) => settleReservations(trx, svc.id))
          .catch((e: Error) =>
            this.deps.log.error(
              { service: `${svc.departmentCode}/${svc.slug}`, err: e.message },
              'cannot settle capacity',
            ),
          );
        await releases.setReleaseStatus(db, release.id, 'failed', reason);
        const first = reason.split('\n')[0]?.replace(/\.$/, '');
        // The lines that say why (`Cannot find module 'express'`), not only the last ones.
        let why: string[] = [];
        if (err instanceof StagingFailed) why = err.decisive;
        else if ((err as { instanceId?: string }).instanceId) {
          const id = (err as { instanceId: string }).instanceId;
          this.failed.set(svc.id, id);
          why = await this.failedLines(id);
        }
        const lines = why.length ? ` Decisive lines: ${why.join(' | ').replace(/\.$/, '')}.` : '';
        await releases.finishDeployment(
          db,
          deploymentId,
          'failed',
          staged
            ? `v${release.version} did not become healthy: ${first}.${lines}${still}`
            : `v${release.version} could not be staged: ${first}.${lines}${still}`,
        );
        this.deps.log.warn({ service: `${svc.departmentCode}/${svc.slug}`, reason }, 'rollout failed');
      }
    });
  }

  /** Brings the number of instances of the current release to the desired count. */
  async scale(svc: ServiceRef, deploymentId: string, replaceAll: boolean): Promise<void> {
    await this.exclusive(svc.id, async () => {
      const { db } = this.deps;
      const settings = await releases.runtimeSettings(db, svc.id);
      const release = settings?.current_release_id
        ? await releases.getRelease(db, settings.current_release_id)
        : undefined;
      if (!settings || !release || release.kind === 'static') {
        await releases.finishDeployment(
          db,
          deploymentId,
          'succeeded',
          'nothing to run yet: the new size applies at the next deploy',
        );
        return;
      }
      try {
        const serving = this.serving.get(svc.id);
        const current = [...(serving?.instances ?? [])];
        const workDir = await this.workDirFor(release, settings);
        if (replaceAll) {
          const fresh = await this.startHealthy(svc, release, settings, workDir, settings.instances);
          for (const id of fresh) serving?.instances.add(id);
          await this.retire(svc.id, current);
        } else if (current.length < settings.instances) {
          const fresh = await this.startHealthy(
            svc,
            release,
            settings,
            workDir,
            settings.instances - current.length,
            current.length,
          );
          for (const id of fresh) serving?.instances.add(id);
          await this.pushRoutes();
        } else {
          await this.retire(svc.id, current.slice(settings.instances));
        }
        await releases.finishDeployment(
          db,
          deploymentId,
          'succeeded',
          `${settings.instances} instance(s) of v${release.version}`,
        );
      } catch (err) {
        await releases.finishDeployment(db, deploymentId, 'failed', (err as Error).message);
      }
    });
  }

  /** Stops every instance of a service and takes its route away (service suspended, retired or deleted). */
  async stopService(serviceId: string): Promise<void> {
    await this.exclusive(serviceId, async () => {
      const ids = this.instancesOf(serviceId).map((s) => s.instanceId);
      this.serving.delete(serviceId);
      await this.retire(serviceId, ids);
    });
  }

  /** A suspended or retired service stops; an active one runs its current release again. */
  async applyLifecycle(svc: ServiceRef, state: LifecycleState): Promise<void> {
    if (state === 'suspended') return this.stopService(svc.id);
    if (state === 'retired') {
      await this.stopService(svc.id);
      // Nothing of a retired service runs again: its files and its OS user go, so that no later
      // user given the same uid finds files it did not make.
      await this.exclusive(svc.id, async () => {
        await rm(join(this.deps.appsDir, svc.id), { recursive: true, force: true });
        await this.deps.users.remove(svc.id);
      });
      return;
    }
    if (state !== 'active' || this.serving.has(svc.id)) return;
    await this.exclusive(svc.id, async () => {
      const settings = await releases.runtimeSettings(this.deps.db, svc.id);
      const release = settings?.current_release_id
        ? await releases.getRelease(this.deps.db, settings.current_release_id)
        : undefined;
      if (!settings || !release) return;
      const workDir = await this.workDirFor(release, settings);
      const ids =
        release.kind === 'process'
          ? await this.startHealthy(svc, release, settings, workDir, settings.instances)
          : [];
      this.serving.set(svc.id, this.servingEntry(svc, release, workDir.dir, ids));
      await this.pushRoutes();
    });
  }

  private servingEntry(svc: ServiceRef, release: ReleaseRow, workDir: string, ids: string[]): Serving {
    return {
      hostname: serviceHostname(svc.slug, svc.departmentCode, this.deps.domain),
      key: `${svc.departmentCode}/${svc.slug}`,
      releaseId: release.id,
      kind: release.kind,
      staticRoot: release.kind === 'static' ? workDir : null,
      healthPath: healthPathOf(release),
      instances: new Set(ids),
    };
  }

  /**
   * After a start (or a takeover of the runtime lease): adopts what a previous process left
   * running, stops what is no longer wanted and starts what is missing.
   */
  async reconcile(): Promise<void> {
    const { db, driver, log } = this.deps;
    const recovered = await driver.recover();
    // Deployments still running (queued by another replica, or interrupted by the death of the
    // previous holder) are not closed here: the work queue runs them again once this is done.
    const wanted = new Set<string>();
    for (const svc of await releases.servicesToRun(db)) {
      const ref = { id: svc.id, slug: svc.slug, departmentCode: svc.department_code };
      const release = await releases.getRelease(db, svc.current_release_id!);
      const settings = await releases.runtimeSettings(db, svc.id);
      if (!release || !settings) continue;
      // A suspended or retired service runs nothing and has no route; its instances stop below.
      if (svc.lifecycle === 'retired' || svc.lifecycle === 'suspended') continue;
      const desired = settings.instances;
      // Only instances running as the service's user now are kept: after an upgrade (or a user
      // made again) the others are replaced, so that none runs outside the network rules.
      let uid: number | null;
      try {
        uid = await this.deps.users.uidFor(svc.id);
      } catch (err) {
        log.error({ service: svc.slug, err: (err as Error).message }, 'cannot make the service user');
        continue;
      }
      const mine = recovered
        .filter((s) => s.serviceId === svc.id && s.releaseId === release.id && (s.uid ?? null) === uid)
        .map((s) => s.instanceId);
      const keep = mine.slice(0, desired);
      for (const id of keep) wanted.add(id);
      let workDir: WorkDir;
      try {
        workDir = await this.workDirFor(release, settings);
      } catch (err) {
        log.error({ service: svc.slug, err: (err as Error).message }, 'cannot prepare release folder');
        continue;
      }
      this.serving.set(svc.id, this.servingEntry(ref, release, workDir.dir, keep));
      if (release.kind !== 'process') continue;
      for (let i = keep.length; i < desired; i++) {
        // Not awaited to health: the router adds each one as soon as it reports healthy.
        const status = await driver.start(await this.specFor(ref, release, settings, workDir, i));
        this.serving.get(svc.id)?.instances.add(status.instanceId);
        wanted.add(status.instanceId);
      }
    }
    const extras = driver.list().filter((s) => !wanted.has(s.instanceId));
    await Promise.all(extras.map((s) => driver.stop(s.instanceId, STOP_GRACE_MS).catch(() => undefined)));
    for (const serviceId of await readdir(this.deps.appsDir).catch(() => [] as string[]))
      if (!serviceId.startsWith('.')) await this.pruneInstanceDirs(serviceId);
    this.routes.enable();
    await this.pushRoutes();
    this.timer = setInterval(() => void this.pushRoutes(), RESYNC_MS);
    this.timer.unref();
    log.info(
      { services: this.serving.size, adopted: recovered.length - extras.length },
      'runtime reconciled',
    );
  }

  /**
   * Brings running services in line with their lifecycle state in the store, for a change made
   * through another replica: suspended, retired or deleted ones stop; active ones not running start.
   */
  async syncLifecycles(): Promise<void> {
    const listed = new Set<string>();
    for (const svc of await releases.servicesToRun(this.deps.db)) {
      listed.add(svc.id);
      const ref = { id: svc.id, slug: svc.slug, departmentCode: svc.department_code };
      const serving = this.serving.has(svc.id);
      if ((svc.lifecycle === 'suspended' || svc.lifecycle === 'retired') && serving)
        await this.applyLifecycle(ref, svc.lifecycle);
      else if (svc.lifecycle === 'active' && !serving && !this.locks.has(svc.id))
        await this.applyLifecycle(ref, 'active').catch((err: Error) =>
          this.deps.log.warn({ service: svc.slug, err: err.message }, 'could not start the service again'),
        );
    }
    for (const id of [...this.serving.keys()]) if (!listed.has(id)) await this.stopService(id);
  }

  /** What the other replicas read: every instance with whether it serves, each service's user and failure. */
  liveSnapshot() {
    const instances = this.deps.driver.list().map((st) => ({
      ...st,
      serving: this.serving.get(st.serviceId)?.instances.has(st.instanceId) ?? false,
    }));
    const ids = new Set([...this.serving.keys(), ...this.failed.keys()]);
    const services = [...ids].map((serviceId) => ({
      serviceId,
      runAs: this.runAs(serviceId),
      failedInstance: this.failed.get(serviceId) ?? null,
    }));
    return { instances, services, isolation: this.isolation() };
  }

  /** How services are kept apart on this host (status output says when something is not enforced). */
  isolation(): IsolationStatus {
    const users = this.deps.users;
    return { network: this.deps.network.status(), users: { enforced: users.enabled, reason: users.reason } };
  }

  /** The OS user a service runs as, or null (not root, or not run yet). */
  runAs(serviceId: string): OsUser | null {
    return this.deps.users.user(serviceId);
  }

  /** Status of a service's instances, for the API. */
  instances(serviceId: string): (InstanceStatus & { serving: boolean })[] {
    const s = this.serving.get(serviceId);
    return this.instancesOf(serviceId).map((st) => ({
      ...st,
      serving: s?.instances.has(st.instanceId) ?? false,
    }));
  }

  /**
   * The services the router serves (active, with a live release) and their instances, for the
   * monitoring engine. Cheap: it reads what is in memory.
   */
  watchList(): WatchedService[] {
    const byService = new Map<string, InstanceStatus[]>();
    for (const st of this.deps.driver.list()) {
      const list = byService.get(st.serviceId);
      if (list) list.push(st);
      else byService.set(st.serviceId, [st]);
    }
    return [...this.serving].map(([serviceId, s]) => ({
      serviceId,
      key: s.key,
      hostname: s.hostname,
      healthPath: s.healthPath,
      kind: s.kind,
      instances: byService.get(serviceId) ?? [],
    }));
  }

  logPath(instanceId: string): string {
    return this.deps.driver.logPath(instanceId);
  }

  /** The instance whose failure ended the service's last rollout, when that is the latest news. */
  failedInstance(serviceId: string): string | null {
    return this.failed.get(serviceId) ?? null;
  }

  /** Stops the loops; with `stopInstances` the services stop too (a clean platform shutdown). */
  async shutdown(stopInstances: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.locks.values()]);
    if (stopInstances) await this.deps.driver.stopAll(STOP_GRACE_MS);
    else this.deps.driver.detach();
  }
}
