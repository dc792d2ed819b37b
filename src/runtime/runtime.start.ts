import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { reconcileReservations, registerLocalFarm } from '../capacity/host-farm.ts';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import { loadSecretBox } from '../platform/secrets.ts';
import { LocalSupervisor } from './local/index.ts';
import { pruneLogs } from './local/log-files.ts';
import { Orchestrator } from './orchestrator.ts';
import { ensureRouter, type RouterClient } from './router-process.ts';
import type { RuntimeDeps } from './runtime.logic.ts';
import { resolveAppsDir } from './workdir.ts';

const LOG_KEEP_MS = 7 * 86_400_000;

export interface RunningRuntime {
  deps: RuntimeDeps;
  routerUrl: string;
  /** The router process now running (it changes when the watchdog starts it again). */
  router(): RouterClient;
  /** `stopServices`: stop instances and router too (clean shutdown) or leave them running. */
  shutdown(stopServices: boolean): Promise<void>;
}

/**
 * Starts the local runtime: the supervisor of service instances, the router process, and the
 * orchestration that reconciles them with the store.
 */
/** Health checks in a row a living router may miss before it is replaced. */
const ROUTER_MISSES_BEFORE_RESTART = 3;

export async function startRuntime(config: Config, db: Db, log: FastifyBaseLogger): Promise<RunningRuntime> {
  const runDir = join(config.dataDir, 'runtime');
  const bundlesDir = join(config.dataDir, 'bundles');
  mkdirSync(bundlesDir, { recursive: true, mode: 0o700 });
  const apps = await resolveAppsDir(config.dataDir, config.appsDir);
  if (apps.note) log.warn({ appsDir: apps.dir }, apps.note);
  const box = loadSecretBox(join(config.dataDir, 'secret.key'), config.secretKey ?? undefined);
  const driver = new LocalSupervisor({
    stateDir: join(runDir, 'instances'),
    logDir: join(runDir, 'logs'),
    logger: log,
  });
  const router = await ensureRouter({
    dataDir: config.dataDir,
    host: config.routerHost,
    port: config.routerPort,
    adminPort: config.routerAdminPort,
    trustedProxies: config.routerTrustedProxies,
  });
  log.info({ port: router.client.info.port, adopted: router.adopted }, 'router is up');
  const orchestrator = new Orchestrator({
    db,
    driver,
    router: router.client,
    box,
    appsDir: apps.dir,
    bundlesDir,
    domain: config.domain,
    log,
  });
  // This host is a farm: its real capacity, and reservations for what already runs on it (services
  // deployed before capacity was tracked get theirs here, never refused).
  try {
    const host = await registerLocalFarm(db, config.dataDir);
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
      await orchestrator.replaceRouter(current.client);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'could not start the router again');
    } finally {
      checking = false;
    }
  }, 2000);
  watchdog.unref();
  // Logs of instances that stopped (replaced by a rollout, scaled away) are kept a week, then go.
  const pruneStoppedLogs = () =>
    pruneLogs(join(runDir, 'logs'), new Set(driver.list().map((s) => s.instanceId)), LOG_KEEP_MS).then(
      (ids) => ids.length > 0 && log.info({ instances: ids.length }, 'removed logs of stopped instances'),
      (err) => log.warn({ err: (err as Error).message }, 'could not prune old logs'),
    );
  void pruneStoppedLogs();
  const pruner = setInterval(pruneStoppedLogs, 3_600_000);
  pruner.unref();
  const host = config.routerHost.includes(':') ? `[${config.routerHost}]` : config.routerHost;
  return {
    deps: {
      db,
      box,
      orchestrator,
      bundlesDir,
      bundleLimit: config.bundleLimit,
      domain: config.domain,
      publicUrl: (hostname) => {
        const port = current.client.info.port;
        return `http://${hostname}${port === 80 ? '' : `:${port}`}`;
      },
    },
    router: () => current.client,
    get routerUrl() {
      return `http://${host}:${current.client.info.port}`;
    },
    async shutdown(stopServices) {
      clearInterval(watchdog);
      clearInterval(pruner);
      await orchestrator.shutdown(stopServices);
      if (stopServices) await current.stop();
    },
  };
}
