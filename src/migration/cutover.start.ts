import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import type { RunningRuntime } from '../runtime/runtime.start.ts';
import { allCutovers, fallBack } from './cutover.logic.ts';
import { CutoverWatch } from './cutover.watch.ts';

/**
 * Starts the cut-over watch on a running runtime (beside monitoring): it samples the router as
 * often as services are probed, and a fallback republishes the routes at once.
 */
export function startCutoverWatch(
  config: Config,
  db: Db,
  runtime: RunningRuntime,
  log: FastifyBaseLogger,
): CutoverWatch {
  const deps = { db, config, onChange: () => runtime.deps.work.edgeChanged() };
  const watch = new CutoverWatch({
    db,
    log,
    routerMetrics: () => runtime.router().rawMetrics(),
    cutovers: allCutovers,
    fallBack: (serviceId, reason) => fallBack(deps, serviceId, reason),
    intervalMs: config.probeIntervalMs,
  });
  watch.start();
  return watch;
}
