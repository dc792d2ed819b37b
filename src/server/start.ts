import type { FastifyInstance } from 'fastify';
import { checkChainKey } from '../audit/audit.logic.ts';
import { type RunningAlerting, startAlerting } from '../monitoring/alerting.start.ts';
import { type RunningMonitoring, startMonitoring } from '../monitoring/monitoring.start.ts';
import type { Config } from '../platform/config.ts';
import { makeDataDirPrivate } from '../platform/data-dir.ts';
import { lockDataDir } from '../platform/lockfile.ts';
import { type RunningRuntime, startRuntime } from '../runtime/runtime.start.ts';
import { bootstrapAdmin } from '../tenancy/bootstrap.ts';
import { buildApp } from './app.ts';
import { migrateToLatest } from './migrations.ts';
import { openStore } from './store.ts';

export interface RunningPlatform {
  app: FastifyInstance;
  url: string;
  routerUrl: string | null;
  /** `stopServices` false leaves instances and router running, to be adopted by the next start. */
  close(stopServices?: boolean): Promise<void>;
}

/** Opens the store, migrates it, creates the first admin if there is none, and listens. */
export async function startPlatform(
  config: Config,
  opts: {
    onFirstAdmin?: (admin: { username: string; token: string }, url: string) => void;
    logger?: boolean;
    /** Run the local runtime (supervisor, router); off for API-only uses. */
    runtime?: boolean;
  } = {},
): Promise<RunningPlatform> {
  // Before anything is created: the umask, and the data folder private (repaired if it was not).
  const repaired = makeDataDirPrivate(config.dataDir, config.appsDir);
  const unlock = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
  try {
    const store = await openStore(config);
    try {
      await migrateToLatest(store.db);
      await checkChainKey(store.db);
      const admin = await bootstrapAdmin(store.db);
      let runtime: RunningRuntime | null = null;
      let monitoring: RunningMonitoring | null = null;
      let alerting: RunningAlerting | null = null;
      const app = await buildApp(
        {
          db: store.db,
          config,
          store,
          get runtime() {
            return runtime?.deps ?? null;
          },
          // Read at call time: the runtime starts after the routes are registered.
          onLifecycle: async (svc, state) => runtime?.deps.orchestrator.applyLifecycle(svc, state),
          get monitoring() {
            return monitoring?.engine ?? null;
          },
          get alerting() {
            return alerting;
          },
        },
        opts.logger === undefined ? {} : { logger: opts.logger },
      );
      if (repaired > 0) {
        app.log.warn(
          { dataDir: config.dataDir, entries: repaired },
          'the data folder was readable by other users: made it private to the platform',
        );
      }
      if (opts.runtime !== false) {
        runtime = await startRuntime(config, store.db, app.log);
        monitoring = await startMonitoring(config, store.db, runtime, app.log);
        alerting = await startAlerting({
          db: store.db,
          config,
          box: runtime.deps.box,
          events: monitoring.engine,
          log: app.log,
        });
      }
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      const url = `http://${host}:${port}`;
      const routerUrl = runtime?.routerUrl ?? null;
      // The first admin's token goes out before the ready line: whoever waits for "ready" (a
      // script, a test) then has everything the start printed.
      if (admin) opts.onFirstAdmin?.(admin, url);
      app.log.info({ url, routerUrl, store: store.kind, dataDir: config.dataDir }, 'GovHost is ready');
      return {
        app,
        url,
        routerUrl,
        close: async (stopServices = true) => {
          // Every step runs even when one before it fails: the store is closed and the data
          // folder unlocked whatever happened, and the first failure is reported after.
          let failure: unknown = null;
          const step = async (what: string, fn: () => Promise<unknown> | undefined) => {
            try {
              await fn();
            } catch (err) {
              app.log.error({ err: (err as Error).message }, `shutdown: cannot ${what}`);
              failure ??= err;
            }
          };
          await step('close the API', () => app.close());
          // Probing stops first, so no alert fires while the dispatcher winds down.
          await step('stop monitoring', () => monitoring?.stop());
          await step('stop alerting', () => alerting?.stop());
          await step('stop the runtime', () => runtime?.shutdown(stopServices));
          await step('close the store', () => store.close());
          unlock();
          if (failure) throw failure;
        },
      };
    } catch (err) {
      await store.close();
      throw err;
    }
  } catch (err) {
    unlock();
    throw err;
  }
}
