import { type AdminSource, createAdminServer } from './admin.ts';
import { createEngine } from './engine.ts';
import { followControlPlane } from './follow.ts';
import { stderrLog } from './log.ts';
import { mergeAll, summariseAll } from './metrics.ts';
import { type RouterOptions, resolveOptions } from './options.ts';
import { RouteStore, stateBox } from './route-store.ts';

export type { RouterOptions } from './options.ts';

export interface RunningRouter {
  /** The public port actually bound (differs from the option when it was 0). */
  readonly port: number;
  /** The HTTPS port bound, or null when the router listens for plain HTTP only. */
  readonly httpsPort: number | null;
  readonly adminPort: number;
  /** Stops accepting, lets requests in flight finish (up to the grace period), then stops. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts a router: loads the last route table from the state file, listens publicly and on the
 * admin port, and resolves once both accept connections.
 * @example const r = await startRouter({ port: 0, adminPort: 0, adminToken, statePath });
 */
export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const o = resolveOptions(options);
  const log = options.log ?? stderrLog;
  if (o.workers > 0) {
    // Imported only when used: the single-process router never loads node:cluster.
    const { startCluster } = await import('./cluster-primary.ts');
    return startCluster(o, log);
  }
  const store = new RouteStore(o.statePath, log, stateBox(o));
  const engine = createEngine(o, log, options.onRequest ?? null);
  store.onChange((t) => engine.index.apply(t));
  engine.index.apply(await store.load());

  const source: AdminSource = {
    table: () => store.current(),
    update: (t) => store.update(t),
    metrics: async () => summariseAll([engine.metrics.raw()]),
    rawMetrics: async () => mergeAll([engine.metrics.raw()]),
    inflight: async () => engine.backends.inflight(),
  };
  const admin = createAdminServer(source, o.adminToken, log);
  const unfollow = o.controlPlane ? followControlPlane(o.controlPlane, source, log) : () => {};
  const { port, httpsPort } = await engine.listen();
  let adminPort: number;
  try {
    adminPort = await admin.listen(o.adminHost, o.adminPort);
  } catch (err) {
    await engine.close(0);
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    port,
    httpsPort,
    adminPort,
    close: (graceMs = o.shutdownGraceMs) => {
      closing ??= (async () => {
        unfollow();
        // The admin API stays up while draining, so the control plane can watch /inflight.
        await engine.close(graceMs);
        await admin.close();
      })();
      return closing;
    },
  };
}
