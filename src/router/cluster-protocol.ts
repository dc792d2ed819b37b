import type { InflightReport } from './balancer.ts';
import type { RawServiceMetrics } from './metrics.ts';
import type { ResolvedOptions } from './options.ts';
import type { RouteTable } from './route-table.ts';

/** Messages between the cluster primary (admin API, route store) and its proxy workers. */
export type ToWorker =
  | { t: 'table'; table: RouteTable }
  | { t: 'stats'; id: number }
  | { t: 'shutdown'; graceMs: number };

export type ToPrimary =
  | { t: 'hello' }
  | { t: 'ready'; port: number; httpsPort: number | null }
  /** The worker now routes by this table version. */
  | { t: 'applied'; version: number }
  | { t: 'failed'; message: string }
  | { t: 'stats'; id: number; metrics: Record<string, RawServiceMetrics>; inflight: InflightReport };

/** Options a worker needs, passed in its environment; the admin token stays in the primary. */
// Workers never see the control plane's URL or token: only the primary follows it, and main.ts
// drops the router's secrets from the environment before any worker is forked.
export type WorkerOptions = Omit<
  ResolvedOptions,
  'adminToken' | 'statePath' | 'stateKey' | 'adminHost' | 'adminPort' | 'controlPlane'
>;

export const WORKER_OPTIONS_ENV = 'GOVHOST_ROUTER_WORKER_OPTIONS';
