import { join } from 'node:path';
import { openBlobStores } from '../blobs/blob-stores.ts';
import { buildConfig, buildPaths, createBuild } from '../build/build.logic.ts';
import { NO_CACHE } from '../build/dependency-cache.ts';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import { loadSecretBox } from '../platform/secrets.ts';
import { liveInstances, liveService, liveState } from './live-state.repository.ts';
import { logFile } from './local/log-files.ts';
import type { OsUser } from './local/os-users.ts';
import type { IsolationStatus } from './orchestrator.ts';
import type { RuntimeDeps } from './runtime.logic.ts';
import type { RuntimeWork } from './runtime-work.ts';

const NOT_YET = { enforced: false, reason: 'no replica runs the runtime at the moment' };

/**
 * The runtime as a replica that does not hold the runtime lease sees it: the request's rows are
 * the queue (the holder is told at once, and polls besides), and live state is what the holder
 * last published. Logs are read from the data folder every replica on this host shares.
 */
export function storedWork(opts: { db: Db; dataDir: string; tell: () => Promise<void> }): RuntimeWork {
  const { db } = opts;
  const tell = () => opts.tell().catch(() => undefined);
  return {
    rollout: tell,
    scale: tell,
    applyLifecycle: tell,
    // The holder reads the edge again when told (and on its lifecycle poll).
    edgeChanged: tell,
    instances: (serviceId) => liveInstances(db, serviceId),
    runAs: async (serviceId) => ((await liveService(db, serviceId))?.run_as as OsUser | null) ?? null,
    isolation: async () =>
      ((await liveState(db, 'isolation')) as IsolationStatus | null) ?? { network: NOT_YET, users: NOT_YET },
    logPath: (instanceId) => logFile(join(opts.dataDir, 'runtime', 'logs'), instanceId),
    failedInstance: async (serviceId) => (await liveService(db, serviceId))?.failed_instance ?? null,
  };
}

/**
 * The API's runtime on a replica without the runtime lease: the same requests, checked the same
 * way (the builder is chosen at once), queued for the holder. Citizens' URLs name the router's
 * configured port: replicas need a fixed GOVHOST_ROUTER_PORT.
 */
export function storedRuntimeDeps(config: Config, db: Db, tell: () => Promise<void>): RuntimeDeps {
  const blobs = openBlobStores({ kind: config.blobStore, dataDir: config.dataDir, db });
  return {
    db,
    box: loadSecretBox(join(config.dataDir, 'secret.key'), config.secretKey ?? undefined),
    work: storedWork({ db, dataDir: config.dataDir, tell }),
    // Detection only: staging runs on the holder.
    build: createBuild({
      db,
      ...buildPaths(config.dataDir),
      blobs,
      scratchDir: join(config.dataDir, 'build', 'scratch-unused'),
      ...buildConfig(config),
      limiter: null,
      cache: NO_CACHE,
    }),
    bundles: blobs.bundles,
    bundleLimit: config.bundleLimit,
    domain: config.domain,
    apiHost: config.host,
    publicUrl: (hostname) => `http://${hostname}${config.routerPort === 80 ? '' : `:${config.routerPort}`}`,
  };
}
