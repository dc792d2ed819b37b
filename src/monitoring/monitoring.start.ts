import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../platform/config.ts';
import type { Db } from '../platform/database.ts';
import type { RunningRuntime } from '../runtime/runtime.start.ts';
import { MonitoringEngine } from './engine.ts';

export interface RunningMonitoring {
  engine: MonitoringEngine;
  /** Stops probing and writes the minute in progress. */
  stop(): Promise<void>;
}

/** Starts the monitoring engine on a running runtime (the platform calls it after startRuntime). */
export async function startMonitoring(
  config: Config,
  db: Db,
  runtime: RunningRuntime,
  log: FastifyBaseLogger,
): Promise<RunningMonitoring> {
  const engine = new MonitoringEngine({
    db,
    log,
    watchList: () => runtime.orchestrator.watchList(),
    routerUrl: () => runtime.routerUrl,
    routerMetrics: () => runtime.router().rawMetrics(),
    probeKey: () => runtime.router().probeKey,
    intervalMs: config.probeIntervalMs,
    timeoutMs: config.probeTimeoutMs,
    retentionDays: config.metricsRetentionDays,
  });
  await engine.start();
  log.info({ services: engine.size, intervalMs: config.probeIntervalMs }, 'monitoring is up');
  return { engine, stop: () => engine.stop() };
}
