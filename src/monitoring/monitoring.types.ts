/**
 * What the monitoring engine tells the rest of monitoring (alert rules, status page, SLA) about
 * each service. The engine probes, samples and rolls up; the others only read these shapes.
 */
import type { SlaTier } from '../catalog/sla-tiers.ts';

/** One probe of a service through the router, as a citizen would reach it. */
export interface ProbeResult {
  /** Epoch milliseconds the probe was sent. */
  at: number;
  ok: boolean;
  /** HTTP status, or null when no answer came (refused, reset, timed out). */
  status: number | null;
  ms: number;
  /** Why it failed, in a few words (`HTTP 503`, `timeout after 5000 ms`, `ECONNREFUSED`). */
  error: string | null;
}

/** `unknown`: not probed yet, or the service has no live release. */
export type ServiceState = 'up' | 'down' | 'unknown';

export interface InstanceSample {
  instanceId: string;
  /** The runtime's state: starting, healthy, unhealthy, backoff, crash-loop, stopping, stopped. */
  state: string;
  restarts: number;
  /** Resident memory of the instance's processes, bytes; null when unknown. */
  memoryBytes: number | null;
  memoryLimitBytes: number;
  /** Share of one CPU used since the previous sample (1 = one full core). */
  cpu: number | null;
}

/** Requests through the router over a recent window (the last five minutes by default). */
export interface TrafficWindow {
  windowSec: number;
  requests: number;
  errors5xx: number;
  /** Latency percentiles in ms from the router's histograms; null with no requests. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** Everything known about one service right after one of its probes. */
export interface ServiceSnapshot {
  serviceId: string;
  departmentId: string;
  /** `DEPT/slug`. */
  key: string;
  tier: SlaTier;
  state: ServiceState;
  /** Epoch ms of the first failed probe of the current outage, when down. */
  downSince: number | null;
  lastProbe: ProbeResult | null;
  /** Failed probes in a row (0 when the last one succeeded). */
  consecutiveFailures: number;
  traffic: TrafficWindow;
  instances: InstanceSample[];
  /** Epoch ms of this snapshot. */
  at: number;
}

/** The engine's events: a snapshot after every probe, and the set of services it watches. */
export interface MonitoringEvents {
  snapshot: [ServiceSnapshot];
  /** A service stopped being watched (retired, suspended, deleted): clear its alerts. */
  unwatched: [{ serviceId: string; at: number }];
}
