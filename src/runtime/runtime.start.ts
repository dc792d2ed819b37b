import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { openBlobStores } from '../blobs/blob-stores.ts';
import { buildConfig, buildPaths, createBuild } from '../build/build.logic.ts';
import { createCacheStore, tidyCache } from '../build/cache-store.ts';
import type { Limiter } from '../build/sandbox.ts';
import { quotaOf } from '../capacity/admission.ts';
import { reconcileReservations, registerLocalFarm } from '../capacity/host-farm.ts';
import type { HeldLease } from '../cluster/lease.ts';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import { listen } from '../platform/notify.ts';
import { loadSecretBox } from '../platform/secrets.ts';
import type { Cutover, Route } from '../router/route-table.ts';
import { findByCode } from '../tenancy/department.repository.ts';
import type { RouterControl } from './driver.ts';
import { LiveStatePublisher, publishedTable, storeVersioned, withOpenKeys } from './live-state.ts';
import { detectCgroups, InstanceCgroup } from './local/cgroups.ts';
import { LocalSupervisor } from './local/index.ts';
import { LocalReleaseDriver } from './local/local-release-driver.ts';
import { pruneLogs } from './local/log-files.ts';
import { NetworkIsolation } from './local/network-isolation.ts';
import { type AllowedPort, isolationTable } from './local/nftables.ts';
import { Orchestrator } from './orchestrator.ts';
import type { ReleaseDriver } from './release-driver.ts';
import { ensureRouter, type RouterClient } from './router-process.ts';
import type { RuntimeDeps } from './runtime.logic.ts';
import { INSTANCE_CPU } from './runtime.types.ts';
import { defaultUserPrefix, installOwner, ServiceUsers } from './service-users.ts';
import { WorkQueue } from './work-queue.ts';
import { prepareAppsDir, prepareInstanceDir, resolveAppsDir } from './workdir.ts';

const LOG_KEEP_MS = 7 * 86_400_000;

/**
 * What service users may reach on loopback: the router's public port, and a local DNS resolver
 * (systemd-resolved answers on 127.0.0.53) so that apps can still look names up.
 */
const allowedOnLoopback = (routerPort: number, config: Config): AllowedPort[] => [
  { protocol: 'tcp', port: routerPort },
  { protocol: 'udp', port: 53 },
  { protocol: 'tcp', port: 53 },
  ...packageMirrorPorts(config),
];

/**
 * Builds run as the service's user, so a package mirror on this host (a registry in a closed
 * network is often beside the platform) must be reachable by service users on loopback. The rules
 * are per user, not per process: a service's instances can reach the mirror too, which serves
 * packages to anyone anyway. A mirror elsewhere needs no rule: only loopback is limited.
 */
function packageMirrorPorts(config: Config): AllowedPort[] {
  const out: AllowedPort[] = [];
  for (const raw of [config.npmRegistry, config.pipIndexUrl]) {
    if (!raw) continue;
    const u = new URL(raw);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (host !== 'localhost' && host !== '::1' && !host.startsWith('127.')) continue;
    out.push({ protocol: 'tcp', port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) });
  }
  return out;
}

/** Stagings' cgroups: the supervisor's cgroup code, one group per staging. */
function stagingLimiter(): Limiter {
  let layout: ReturnType<typeof detectCgroups> | null = null;
  return (name, memoryMb, cpus) => {
    layout ??= detectCgroups('/sys/fs/cgroup');
    const made = InstanceCgroup.create(layout, name, memoryMb, cpus);
    if (!(made instanceof InstanceCgroup)) return { reason: made.reason };
    return {
      join: (pid) => made.join(pid),
      pids: () => made.pids(),
      oomKills: () => made.oomKills(),
      remove: () => void made.remove(),
      memory: made.limits.memory,
      cpu: made.limits.cpu,
    };
  };
}

export interface RunningRuntime {
  deps: RuntimeDeps;
  orchestrator: Orchestrator;
  routerUrl: string;
  /** The router's HTTPS listener (`https://host:port`), or null when it serves no HTTPS. */
  routerHttpsUrl: string | null;
  /** The router process now running (it changes when the watchdog starts it again). */
  router(): RouterClient;
  /** `stopServices`: stop instances and router too (clean shutdown) or leave them running. */
  shutdown(stopServices: boolean): Promise<void>;
}

/** How services are kept apart on Kubernetes, for status output. */
const K8S_ISOLATION =
  'kubernetes: pods of each department in its namespace, a NetworkPolicy admitting only the router';

/** A department's quota as the cluster enforces it (ResourceQuota, LimitRange): the platform's own. */
function departmentQuota(db: Db) {
  return async (code: string) => {
    const department = await findByCode(db, null, code.toUpperCase());
    if (!department) throw new Error(`no department ${code}`);
    const q = await quotaOf(db, department.id);
    return { memoryMb: q.memoryMb, instances: q.instances, cpuPerInstance: INSTANCE_CPU };
  };
}

/** Registers this host as a farm, with reservations for what runs on it. */
async function registerThisHost(db: Db, dataDir: string, log: FastifyBaseLogger): Promise<void> {
  try {
    const host = await registerLocalFarm(db, dataDir);
    const r = await reconcileReservations(db);
    log.info(
      {
        vcpu: host.vcpu,
        memoryMb: host.memoryMb,
        storageGb: host.storageGb,
        estimatedWatts: host.watts,
        ...r,
      },
      'local farm registered',
    );
  } catch (err) {
    log.error({ err: (err as Error).message }, 'could not register the local farm');
  }
}

/** Health checks in a row a living router may miss before it is replaced. */
const ROUTER_MISSES_BEFORE_RESTART = 3;

/** The channel other replicas notify when they queue work for the runtime. */
export const RUNTIME_CHANNEL = 'govhost_runtime';

/**
 * Starts the runtime: the release driver (the local supervisor of service instances, or the
 * Kubernetes driver with GOVHOST_RUNTIME=kubernetes), the router process, and the orchestration
 * that reconciles them with the store. On the replica that holds `lease` (the
 * runtime lease); it also runs the work other replicas queue and publishes live state for them.
 */
export async function startRuntime(
  config: Config,
  db: Db,
  log: FastifyBaseLogger,
  lease?: HeldLease,
  /** Route inputs of capabilities above the runtime, handed down by the composition root. */
  routeInputs: { cutovers?: () => Promise<Map<string, Cutover>>; platformRoutes?: () => Route[] } = {},
): Promise<RunningRuntime> {
  // Services run as pods in a cluster: no process, OS user or firewall rule of theirs on this host.
  const k8s = config.runtime === 'kubernetes';
  // The Kubernetes client library loads only for that runtime: it is the heaviest of our
  // dependencies, and a local platform would pay for it on every start.
  const kube = k8s ? await import('./kubernetes/from-config.ts') : null;
  const runDir = join(config.dataDir, 'runtime');
  const blobs = openBlobStores({ kind: config.blobStore, dataDir: config.dataDir, db });
  const apps = await resolveAppsDir(config.dataDir, config.appsDir);
  if (apps.note) log.warn({ appsDir: apps.dir }, apps.note);
  await prepareAppsDir(apps.dir);
  const box = loadSecretBox(join(config.dataDir, 'secret.key'), config.secretKey ?? undefined);
  const supervisor = k8s
    ? null
    : new LocalSupervisor({
        stateDir: join(runDir, 'instances'),
        logDir: join(runDir, 'logs'),
        logger: log,
      });
  const driver: ReleaseDriver = supervisor
    ? new LocalReleaseDriver({
        supervisor,
        // Each instance writes in its own copy of the release's folder, owned by the service's user.
        instanceDir: (spec, instanceId) => {
          if (spec.artifact.kind !== 'droplet' || !spec.artifact.dir)
            throw new Error('the local runtime runs releases unpacked on this host');
          return prepareInstanceDir({ releaseDir: spec.artifact.dir, instanceId, uid: spec.uid ?? null });
        },
      })
    : (kube as NonNullable<typeof kube>).kubernetesDriverFromConfig(config, departmentQuota(db));
  if (k8s)
    log.info(
      { kubeconfig: config.kubeconfig ?? 'in-cluster', controlPlaneUrl: config.k8sControlPlaneUrl },
      'runtime: kubernetes (a Deployment per release; no service users or nftables rules on this host)',
    );
  const router = await ensureRouter({
    dataDir: config.dataDir,
    host: config.routerHost,
    port: config.routerPort,
    adminPort: config.routerAdminPort,
    trustedProxies: config.routerTrustedProxies,
  });
  log.info({ port: router.client.info.port, adopted: router.adopted }, 'router is up');
  // Service users first (made again where the OS lost them, removed where their service went),
  // then the network rules for exactly those uids, before any instance starts.
  const users = new ServiceUsers({
    db,
    settings: {
      prefix: config.serviceUserPrefix ?? defaultUserPrefix(config.dataDir),
      owner: installOwner(config.dataDir),
      uidMin: config.serviceUidMin,
      uidMax: config.serviceUidMax,
    },
    log,
    ...(k8s ? { off: K8S_ISOLATION } : {}),
  });
  const network = k8s
    ? null
    : new NetworkIsolation({
        table: isolationTable(config.dataDir),
        allowed: allowedOnLoopback(router.client.info.port, config),
        log,
      });
  if (network) {
    users.listen(network);
    if (users.enabled) {
      const changed = await users.reconcile();
      if (changed.made + changed.removed > 0) log.info(changed, 'service users reconciled');
    } else {
      log.warn({}, `service users: none (${users.reason})`);
    }
    await network.start(users.uids());
  }
  const cacheDir = join(config.dataDir, 'build', 'cache');
  await tidyCache(cacheDir);
  const build = createBuild({
    db,
    ...buildPaths(config.dataDir),
    blobs,
    scratchDir: join(apps.dir, '.staging'),
    ...buildConfig(config),
    limiter: stagingLimiter(),
    // On Kubernetes, builds run as Jobs in the department's namespace, never in this process's pod.
    ...(kube ? kube.stagerFromConfig(config, db, blobs.droplets) : {}),
    cache: createCacheStore({
      dir: cacheDir,
      maxBytes: config.buildCacheBytes,
      onEvict: (e) => log.info(e, 'dependency cache entry evicted'),
    }),
  });
  // Droplets and bundles no release names (a refused or interrupted deploy's) go at start.
  await build.collect().then(
    (n) => n.droplets + n.bundles > 0 && log.info(n, 'removed droplets and bundles no release uses'),
    (err: Error) => log.warn({ err: err.message }, 'could not collect unused droplets'),
  );
  // Every table pushed to this host's router is also published for routers that follow the
  // control plane (decision 023), without waiting for the next periodic publication; both carry
  // versions from the store (decision 028).
  let routesChanged = () => {};
  const published = (client: RouterClient): RouterControl =>
    storeVersioned(
      db,
      client,
      () => routesChanged(),
      (t) => withOpenKeys(t, box),
    );
  const orchestrator = new Orchestrator({
    db,
    driver,
    router: published(router.client),
    box,
    appsDir: apps.dir,
    domain: config.domain,
    log,
    users,
    network: network ?? { status: () => ({ enforced: true, reason: K8S_ISOLATION }) },
    build,
    ...(lease ? { lease } : {}),
    ...routeInputs,
  });
  // This host is a farm: its real capacity, and reservations for what already runs on it (services
  // deployed before capacity was tracked get theirs here, never refused). On Kubernetes too, for
  // now: admission places instances on farms, and the cluster's nodes are not registered as farms
  // yet; the cluster itself holds departments to their quotas (ResourceQuota, LimitRange).
  if (k8s)
    log.warn(
      {},
      'runtime: kubernetes: capacity admission still counts this host as the one farm (cluster nodes are not farms yet)',
    );
  await registerThisHost(db, config.dataDir, log);
  await orchestrator.reconcile();
  // The router is a separate process: should it die, start it again and give it the routes.
  let current = router;
  let checking = false;
  let missed = 0;
  const watchdog = setInterval(async () => {
    if (checking) return;
    checking = true;
    try {
      const reason = await current.client.unhealthy();
      if (reason === null) {
        missed = 0;
        return;
      }
      // A router whose process is gone is replaced at once. One that lives but misses a check is
      // most likely busy (a loaded host): replacing it would cut every connection it carries, so
      // it is replaced only after ROUTER_MISSES_BEFORE_RESTART checks in a row (about 20 s).
      missed++;
      const gone = !current.client.processAlive();
      if (!gone && missed < ROUTER_MISSES_BEFORE_RESTART) {
        log.warn({ pid: current.client.info.pid, reason, missed }, 'router missed a health check');
        return;
      }
      missed = 0;
      // The reason tells a dead router (refused) from a slow one (timed out) when this happens.
      log.warn({ pid: current.client.info.pid, reason, gone }, 'router is not answering; starting it again');
      await current.stop();
      current = await ensureRouter({
        dataDir: config.dataDir,
        host: config.routerHost,
        port: config.routerPort,
        adminPort: config.routerAdminPort,
        trustedProxies: config.routerTrustedProxies,
      });
      await orchestrator.replaceRouter(published(current.client));
      // On a port of its choosing (GOVHOST_ROUTER_PORT=0) it may have come back on another one.
      await network?.setAllowed(allowedOnLoopback(current.client.info.port, config));
    } catch (err) {
      log.error({ err: (err as Error).message }, 'could not start the router again');
    } finally {
      checking = false;
    }
  }, 2000);
  watchdog.unref();
  const publisher = new LiveStatePublisher({
    db,
    snapshot: () => {
      const { isolation, ...rest } = orchestrator.liveSnapshot();
      return {
        ...rest,
        state: { isolation, router: { port: current.client.info.port } },
        // Keys sealed: the stored table is read by every replica's route stream (decision 031).
        ...publishedTable(orchestrator.routeTable()),
      };
    },
    // Without a lease (PGlite's only process is the holder by definition) nothing to check.
    fence: (trx) => lease?.fence(trx) ?? Promise.resolve(),
    log,
  });
  const queue = new WorkQueue({
    db,
    orchestrator,
    log,
    changed: () => publisher.changed(),
    ...(lease ? { signal: lease.signal } : {}),
  });
  // Every change of every local process (a stopped one's too, whose release is already gone), as
  // before; on Kubernetes, the driver's pod events.
  if (supervisor) supervisor.on('change', () => publisher.changed());
  else driver.on('instance', () => publisher.changed());
  routesChanged = () => publisher.changed();
  publisher.start();
  queue.start();
  // Other replicas' requests arrive at once by notification; the queue's poll is the fallback.
  const unlisten = config.databaseUrl
    ? listen(config.databaseUrl, RUNTIME_CHANNEL, () => queue.kick(true), log)
    : async () => {};
  // Logs of instances that stopped (replaced by a rollout, scaled away) are kept a week, then go.
  const pruneStoppedLogs = async () => {
    if (!supervisor) return;
    await pruneLogs(
      join(runDir, 'logs'),
      new Set(supervisor.list().map((s) => s.instanceId)),
      LOG_KEEP_MS,
    ).then(
      (ids) => ids.length > 0 && log.info({ instances: ids.length }, 'removed logs of stopped instances'),
      (err) => log.warn({ err: (err as Error).message }, 'could not prune old logs'),
    );
  };
  void pruneStoppedLogs();
  const pruner = setInterval(pruneStoppedLogs, 3_600_000);
  pruner.unref();
  const host = config.routerHost.includes(':') ? `[${config.routerHost}]` : config.routerHost;
  return {
    deps: {
      db,
      box,
      work: queue,
      build,
      bundles: blobs.bundles,
      bundleLimit: config.bundleLimit,
      domain: config.domain,
      apiHost: config.host,
      publicUrl: (hostname) => {
        const port = current.client.info.port;
        return `http://${hostname}${port === 80 ? '' : `:${port}`}`;
      },
    },
    router: () => current.client,
    get routerUrl() {
      return `http://${host}:${current.client.info.port}`;
    },
    get routerHttpsUrl() {
      const port = current.client.httpsListenPort;
      return port === null ? null : `https://${host}:${port}`;
    },
    orchestrator,
    async shutdown(stopServices) {
      clearInterval(watchdog);
      clearInterval(pruner);
      await unlisten();
      await queue.stop();
      await publisher.stop();
      await orchestrator.shutdown(stopServices);
      // Anything the driver's releases did not hold (none, normally) stops or is left the same way.
      if (stopServices) await supervisor?.stopAll();
      else supervisor?.detach();
      if (stopServices) await current.stop();
      // Instances left running for the next start stay limited; the next start replaces the table.
      if (stopServices) await network?.stop();
    },
  };
}
