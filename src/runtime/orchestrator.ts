import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { type Build, StagingFailed } from '../build/build.logic.ts';
import type { DropletRun } from '../build/build.tables.ts';
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
import type { Cutover, Route, RouteTable } from '../router/route-table.ts';
import type { RouterControl } from './driver.ts';
import type { IsolationReport } from './local/nftables.ts';
import type { OsUser } from './local/os-users.ts';
import type { ReleaseDriver, ReleaseInstance, ReleaseSpec } from './release-driver.ts';
import { rollRelease } from './release-rollout.ts';
import { RouteSync, type Serving } from './route-sync.ts';
import { INSTANCE_CPU, type InstanceState, type InstanceStatus } from './runtime.types.ts';
import type { ServiceUsers } from './service-users.ts';
import { prepareWorkDir, pruneInstanceDirs } from './workdir.ts';

const STOP_GRACE_MS = 10_000;
const RESYNC_MS = 5_000;

export interface OrchestratorDeps {
  /** Replaced when the router process is started again. */
  db: Db;
  /** Runs releases' instances: `local` (processes on this host) or `kubernetes` (a Deployment each). */
  driver: ReleaseDriver;
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
  /**
   * The cut-overs to route (the migration capability's, checked against its allow-list), read
   * again with the custom domains; absent: none.
   */
  cutovers?: () => Promise<Map<string, Cutover>>;
  /** The platform's own routes (the payment host), from the composition root. */
  platformRoutes?: () => Route[];
}

/** How a service is kept apart from the others on this host, for status output. */
export interface IsolationStatus {
  network: IsolationReport;
  users: IsolationReport;
}

/** A release's working copy (none for a process release on a driver that runs elsewhere) and how its droplet runs. */
interface WorkDir {
  dir: string | null;
  run: DropletRun;
  builder: string;
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

/** A rollout whose release did not become ready: the reason, and the lines of the app that say why. */
class NotReady extends Error {
  constructor(
    reason: string,
    readonly instanceId: string | undefined,
    readonly decisive: string[],
  ) {
    super(reason);
  }
}

const STATES: Record<ReleaseInstance['state'], InstanceState> = {
  starting: 'starting',
  ready: 'healthy',
  unready: 'unhealthy',
  crashed: 'backoff',
  stopping: 'stopping',
};

/** An instance as the API shows it: the local process's own status, else what the driver knows. */
function statusOf(i: ReleaseInstance): InstanceStatus {
  if (i.process) return i.process;
  return {
    instanceId: i.instanceId,
    serviceId: i.serviceId,
    releaseId: i.releaseId,
    pid: null,
    port: i.endpoint?.port ?? 0,
    state: STATES[i.state],
    restarts: i.restarts,
    startedAt: '',
    healthyAt: null,
    lastExit: null,
    // The cluster enforces the pod's resources; this host measures nothing of it.
    limits: { memory: true, cpu: true, reason: null },
    memoryBytes: null,
    memoryLimitBytes: 0,
  };
}

const TIERS = new Set<string>(['gold', 'silver', 'bronze']);

/**
 * Makes the running world match the desired one, on any release driver: rolls out releases (the
 * new release ready, routes switched, the old drained and stopped), scales, and after a restart
 * brings every service back. One operation per service at a time; the router only ever sees
 * ready instances of each service's serving release.
 */
export class Orchestrator {
  private readonly serving = new Map<string, Serving>();
  /** The instance of each service's last failed rollout, whose log `govhost logs` still shows. */
  private readonly failed = new Map<string, string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly routes: RouteSync;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: OrchestratorDeps) {
    this.routes = new RouteSync(
      this.serving,
      deps.driver,
      deps.router,
      deps.log,
      deps.cutovers,
      deps.platformRoutes,
    );
    deps.driver.on('instance', () => this.routes.schedulePush());
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

  /** The route table: every serving service with the ready instances of its serving release. */
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

  /**
   * Reads the edge's certificates, HTTPS settings and approved custom host names again (decisions
   * 031 and 032) and pushes the table when they changed: on each edge change, and with every
   * periodic resync (a certificate that has just expired leaves the table; a missed notification
   * is only a delay). A pending or rejected host name is never in the store's answer.
   */
  refreshEdge(push = true): Promise<boolean> {
    return this.routes.refreshEdge(this.deps.db, push);
  }

  /**
   * Publishes the ACME challenges in flight (the edge's `pendingAcmeChallenges`) at once: the ACME
   * job tells the CA to check only once this resolves.
   */
  publishAcmeChallenges(challenges: { token: string; keyAuthorization: string }[]): Promise<void> {
    return this.routes.setAcmeChallenges(challenges);
  }

  // ---- instances ----------------------------------------------------------------------------

  /** Whether instances run on this host, each in a copy of its release's unpacked folder. */
  private runsHere(): boolean {
    return this.deps.driver.name === 'local';
  }

  private instancesOf(serviceId: string): ReleaseInstance[] {
    return this.deps.driver.list().filter((i) => i.serviceId === serviceId);
  }

  /** The releases of a service the driver runs instances of (and `also`, which may have none). */
  private releasesOf(serviceId: string, also?: string): string[] {
    const ids = new Set(this.instancesOf(serviceId).map((i) => i.releaseId));
    if (also) ids.add(also);
    return [...ids];
  }

  private async specFor(
    svc: ServiceRef,
    release: ReleaseRow,
    settings: releases.RuntimeSettings,
    work: WorkDir,
  ): Promise<ReleaseSpec> {
    const key = `${svc.departmentCode}/${svc.slug}`;
    const manifest = release.manifest as AppManifest;
    const env = JSON.parse(this.deps.box.open(release.env_sealed)) as Record<string, string>;
    const sha256 = release.droplet_sha256;
    if (!sha256 && !work.dir)
      throw new Error(`v${release.version} predates droplets and runs only from a folder: deploy it again`);
    return {
      serviceId: svc.id,
      serviceKey: key,
      releaseId: release.id,
      version: release.version,
      instances: settings.instances,
      memoryMb: settings.memory_mb,
      cpu: INSTANCE_CPU,
      diskMb: manifest.diskQuotaMb ?? 1024,
      healthCheck: {
        type: manifest.healthCheck.type,
        endpoint: manifest.healthCheck.endpoint,
        startTimeoutSec: manifest.healthCheck.startTimeoutSec,
        intervalMs: 2000,
      },
      env: { ...env, GOVHOST_SERVICE: key, GOVHOST_RELEASE: `v${release.version}` },
      secretEnv: {},
      artifact: {
        kind: 'droplet',
        sha256: sha256 ?? release.bundle_sha256,
        builder: work.builder,
        command: release.command ?? '',
        run: work.run,
        ...(work.dir ? { dir: work.dir } : {}),
      },
      tier: TIERS.has(settings.sla_tier) ? (settings.sla_tier as ReleaseSpec['tier']) : 'bronze',
      uid: this.runsHere() ? await this.deps.users.uidFor(svc.id) : null,
    };
  }

  private async workDirFor(release: ReleaseRow): Promise<WorkDir> {
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
    const run = droplet?.run ?? { pathPrepend: [], pathEnv: {} };
    const builder = droplet?.builder ?? 'node';
    // Pods fetch the droplet themselves: only a static site (served by the router) is unpacked.
    if (release.kind === 'process' && !this.runsHere()) return { dir: null, run, builder };
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
    return { dir, run, builder };
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

  /** The folders of a service's instances that have stopped go (their disk is ephemeral). */
  private async pruneInstanceDirs(serviceId: string): Promise<void> {
    if (!this.runsHere()) return;
    const running = new Set(this.instancesOf(serviceId).map((s) => s.instanceId));
    await pruneInstanceDirs(this.deps.appsDir, serviceId, running).catch((err: Error) =>
      this.deps.log.warn({ err: err.message, serviceId }, 'could not remove stopped instances’ folders'),
    );
  }

  /** Takes some instances of a release out of the routes, lets their requests finish, then stops them. */
  private async retire(serviceId: string, releaseId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const s = this.serving.get(serviceId);
    for (const id of ids) s?.draining.add(id);
    try {
      await this.pushRoutes();
      await this.routes.drain(ids);
      await this.deps.driver.remove(releaseId, ids, STOP_GRACE_MS);
    } finally {
      for (const id of ids) s?.draining.delete(id);
    }
    await this.pruneInstanceDirs(serviceId);
  }

  /** Stops a whole release that no longer serves: out of the routes, drained, then stopped. */
  private async stopRelease(serviceId: string, releaseId: string): Promise<void> {
    const ids = this.deps.driver.instances(releaseId).map((i) => i.instanceId);
    await this.pushRoutes();
    await this.routes.drain(ids);
    await this.deps.driver
      .stop(releaseId, STOP_GRACE_MS)
      .catch((err: Error) =>
        this.deps.log.warn({ release: releaseId, err: err.message }, 'a release did not stop cleanly'),
      );
    await this.pruneInstanceDirs(serviceId);
  }

  /** Runs a release that is not running yet (or adopts it), waiting until it is ready; on failure it stops. */
  private async startReady(spec: ReleaseSpec): Promise<void> {
    const { driver } = this.deps;
    await driver.deploy(spec);
    const outcome = await driver.waitReady(spec.releaseId);
    if (outcome.ready) return;
    await driver.stop(spec.releaseId, 2000).catch(() => undefined);
    await this.pruneInstanceDirs(spec.serviceId);
    throw new Error(outcome.reason);
  }

  // ---- operations -------------------------------------------------------------------------

  /**
   * Rolls a release out: new instances first, routes switched only once all are ready, then the
   * old drained and stopped. A release that never becomes ready leaves the old one serving.
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
      let staged = false;
      // Where a deploy's seconds go, in the platform's log (docs/benchmarks.md reads it).
      const phases = new Phases();
      const startedAt = Date.now();
      try {
        release = await phases.time('stage', () =>
          this.ensureDroplet(svc, release, deploymentId, opts.noCache === true),
        );
        staged = true;
        const workDir = await phases.time('release folder', () => this.workDirFor(release));
        await releases.setDeploymentMessage(
          db,
          deploymentId,
          `starting ${settings.instances} instance(s) of v${release.version}`,
        );
        // The write that makes the release current, then the routes: once it is ready.
        const makeCurrent = async () => {
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
          this.serving.set(svc.id, this.servingEntry(svc, release, workDir.dir));
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
        };
        const servingBefore = this.serving.get(svc.id)?.releaseId ?? null;
        if (release.kind === 'process') {
          const spec = await this.specFor(svc, release, settings, workDir);
          const result = await rollRelease(
            this.deps.driver,
            spec,
            servingBefore,
            {
              switchTo: () => makeCurrent(),
              drain: (instances) => this.routes.drain(instances.map((i) => i.instanceId)),
            },
            // The defaults: 2 s for a release that failed, 10 s (STOP_GRACE_MS) for the one it replaces.
            { phases },
          );
          if (!result.ok) {
            await this.pruneInstanceDirs(svc.id);
            throw new NotReady(result.reason, result.instanceId, result.decisive);
          }
        } else await makeCurrent();
        // Whatever else of the service still runs (the previous release of a static one, what an
        // earlier holder left) goes too.
        for (const other of this.releasesOf(svc.id))
          if (other !== release.id) await this.stopRelease(svc.id, other);
        await this.pruneInstanceDirs(svc.id);
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
        else if (err instanceof NotReady) {
          if (err.instanceId) this.failed.set(svc.id, err.instanceId);
          why = err.decisive;
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

  /**
   * Brings the number of instances of the current release to the desired count; `replaceAll` (a
   * restart) replaces every instance, the fresh ones ready before the old ones are drained.
   */
  async scale(svc: ServiceRef, deploymentId: string, replaceAll: boolean): Promise<void> {
    await this.exclusive(svc.id, async () => {
      const { db, driver } = this.deps;
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
        const current = driver.instances(release.id);
        const known = current.map((i) => i.instanceId);
        // Nothing running to replace (scaled to zero): a restart is a plain start below.
        if (replaceAll && current.length > 0) {
          // The new settings (memory) first, at the current size: the fresh set runs with them.
          const spec = await this.specFor(svc, release, settings, await this.workDirFor(release));
          await driver.deploy({ ...spec, instances: current.length });
          const old = await driver.renew(release.id);
          if (current.length !== settings.instances) await driver.scale(release.id, settings.instances);
          const outcome = await driver.waitReady(release.id);
          if (!outcome.ready) {
            // The fresh set goes and the old one serves on. A driver that replaces instances
            // itself (Kubernetes: no old ids) keeps its old pods while new ones are not ready.
            if (old.length > 0) {
              const fresh = driver
                .instances(release.id)
                .map((i) => i.instanceId)
                .filter((id) => !old.includes(id));
              await driver.remove(release.id, fresh, 2000);
              await this.pruneInstanceDirs(svc.id);
            }
            throw new Error(outcome.reason);
          }
          await this.retire(svc.id, release.id, old);
        } else if (current.length < settings.instances) {
          const spec = await this.specFor(svc, release, settings, await this.workDirFor(release));
          await driver.deploy(spec);
          const outcome = await driver.waitReady(release.id);
          if (!outcome.ready) {
            // Back to the size that served: the instances that did not become ready go.
            const fresh = driver
              .instances(release.id)
              .map((i) => i.instanceId)
              .filter((id) => !known.includes(id));
            await driver.remove(release.id, fresh, 2000);
            await this.pruneInstanceDirs(svc.id);
            throw new Error(outcome.reason);
          }
          await this.pushRoutes();
        } else {
          await this.retire(svc.id, release.id, known.slice(settings.instances));
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
      const servingRelease = this.serving.get(serviceId)?.releaseId;
      this.serving.delete(serviceId);
      for (const releaseId of this.releasesOf(serviceId, servingRelease))
        await this.stopRelease(serviceId, releaseId);
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
      const workDir = await this.workDirFor(release);
      if (release.kind === 'process')
        await this.startReady(await this.specFor(svc, release, settings, workDir));
      this.serving.set(svc.id, this.servingEntry(svc, release, workDir.dir));
      await this.pushRoutes();
    });
  }

  private servingEntry(svc: ServiceRef, release: ReleaseRow, workDir: string | null): Serving {
    return {
      hostname: serviceHostname(svc.slug, svc.departmentCode, this.deps.domain),
      key: `${svc.departmentCode}/${svc.slug}`,
      releaseId: release.id,
      kind: release.kind,
      staticRoot: release.kind === 'static' ? workDir : null,
      healthPath: healthPathOf(release),
      draining: new Set(),
    };
  }

  /**
   * After a start (or a takeover of the runtime lease): adopts what the driver says a previous
   * process left running, stops what is no longer wanted and starts what is missing.
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
      let workDir: WorkDir;
      let spec: ReleaseSpec | null = null;
      try {
        workDir = await this.workDirFor(release);
        if (release.kind === 'process') spec = await this.specFor(ref, release, settings, workDir);
      } catch (err) {
        log.error({ service: svc.slug, err: (err as Error).message }, 'cannot prepare the release');
        continue;
      }
      this.serving.set(svc.id, this.servingEntry(ref, release, workDir.dir));
      if (!spec) continue;
      wanted.add(release.id);
      // Only instances running as the service's user now are kept: after an upgrade (or a user
      // made again) the others are replaced, so that none runs outside the network rules.
      const stale = recovered
        .filter(
          (s) => s.releaseId === release.id && s.process && (s.process.uid ?? null) !== (spec.uid ?? null),
        )
        .map((s) => s.instanceId);
      try {
        if (stale.length > 0) await driver.remove(release.id, stale, STOP_GRACE_MS);
        // Adopts what runs and starts what is missing, not awaited to readiness: the router adds
        // each instance as soon as it is ready.
        await driver.deploy(spec);
      } catch (err) {
        log.error({ service: svc.slug, err: (err as Error).message }, 'cannot start the release');
      }
    }
    const extras = [...new Set(driver.list().map((i) => i.releaseId))].filter((id) => !wanted.has(id));
    await Promise.all(extras.map((id) => driver.stop(id, STOP_GRACE_MS).catch(() => undefined)));
    for (const serviceId of await readdir(this.deps.appsDir).catch(() => [] as string[]))
      if (!serviceId.startsWith('.')) await this.pruneInstanceDirs(serviceId);
    this.routes.enable();
    await this.refreshEdge(false);
    await this.pushRoutes();
    this.timer = setInterval(() => void this.refreshEdge(false).then(() => this.pushRoutes()), RESYNC_MS);
    this.timer.unref();
    log.info(
      { services: this.serving.size, adopted: recovered.filter((i) => wanted.has(i.releaseId)).length },
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

  /** Whether the router sends the instance traffic (when ready): its service's serving release, not draining. */
  private isServing(i: ReleaseInstance): boolean {
    const s = this.serving.get(i.serviceId);
    return s?.releaseId === i.releaseId && !s.draining.has(i.instanceId);
  }

  /** What the other replicas read: every instance with whether it serves, each service's user and failure. */
  liveSnapshot() {
    const instances = this.deps.driver.list().map((i) => ({ ...statusOf(i), serving: this.isServing(i) }));
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
    return this.instancesOf(serviceId).map((i) => ({ ...statusOf(i), serving: this.isServing(i) }));
  }

  /**
   * The services the router serves (active, with a live release) and their instances, for the
   * monitoring engine. Cheap: it reads what is in memory.
   */
  watchList(): WatchedService[] {
    const byService = new Map<string, InstanceStatus[]>();
    for (const i of this.deps.driver.list()) {
      const list = byService.get(i.serviceId);
      if (list) list.push(statusOf(i));
      else byService.set(i.serviceId, [statusOf(i)]);
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

  /** The instance's log file on this host; empty where the driver keeps none. */
  logPath(instanceId: string): string {
    return this.deps.driver.logPath?.(instanceId) ?? '';
  }

  /** An instance's last lines through the driver (a pod's log); none once it is gone. */
  async readLog(instanceId: string, tail?: number): Promise<string[]> {
    const found = this.deps.driver.list().find((i) => i.instanceId === instanceId);
    if (!found) return [];
    return this.deps.driver.logs(found.releaseId, { instanceId, ...(tail !== undefined ? { tail } : {}) });
  }

  /** The instance whose failure ended the service's last rollout, when that is the latest news. */
  failedInstance(serviceId: string): string | null {
    return this.failed.get(serviceId) ?? null;
  }

  /** Stops the loops; with `stopInstances` the services stop too (a clean platform shutdown). */
  async shutdown(stopInstances: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.locks.values()]);
    const { driver } = this.deps;
    if (stopInstances)
      await Promise.allSettled(
        [...new Set(driver.list().map((i) => i.releaseId))].map((id) => driver.stop(id, STOP_GRACE_MS)),
      );
    await driver.close();
  }
}
