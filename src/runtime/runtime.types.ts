/**
 * The contract between the orchestration (releases, rollouts, reconciliation) and a runtime
 * driver. The `local` driver runs instances as supervised processes on this host.
 */

import type { ManifestHealthCheck } from '../catalog/manifest.ts';

export type { HealthCheckType } from '../catalog/manifest.ts';

/** The manifest's check, and how often the driver runs it once the instance is up. */
export interface HealthCheck extends ManifestHealthCheck {
  /** Milliseconds between checks once running. */
  intervalMs: number;
}

export interface InstanceSpec {
  /** Unique and stable for the life of the instance, e.g. `svc-3f2a…-r4-1-x7k2`. */
  instanceId: string;
  serviceId: string;
  /** `DEPT/slug`, for logs and messages. */
  serviceKey: string;
  releaseId: string;
  /** Folder with the release's files; the instance's working directory. */
  workDir: string;
  /** Shell command line, run with `/bin/sh -c`. */
  command: string;
  /** Environment of the release; the driver adds PORT (and HOME, PATH if absent). */
  env: Record<string, string>;
  memoryMb: number;
  /** Share of one CPU, e.g. 0.5; enforced as a cgroup quota where possible. */
  cpu: number;
  healthCheck: HealthCheck;
  /** Run as this OS user and group (when the platform runs as root). */
  uid?: number;
  gid?: number;
}

export type InstanceState =
  | 'starting' // spawned, not yet healthy
  | 'healthy' // passing health checks: may receive traffic
  | 'unhealthy' // running but failing health checks
  | 'backoff' // exited; waiting to restart
  | 'crash-loop' // exited repeatedly; restarts continue with the longest back-off
  | 'stopping'
  | 'stopped';

export interface LimitsReport {
  memory: boolean;
  cpu: boolean;
  /** Why a limit is not enforced, e.g. "no writable cgroup hierarchy". */
  reason: string | null;
}

export interface InstanceStatus {
  instanceId: string;
  serviceId: string;
  releaseId: string;
  pid: number | null;
  port: number;
  state: InstanceState;
  restarts: number;
  startedAt: string;
  healthyAt: string | null;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  limits: LimitsReport;
  /** Last resident memory seen, in bytes, when known. */
  memoryBytes: number | null;
  /** The memory the instance is given (enforced where cgroups allow), bytes. */
  memoryLimitBytes: number;
  /** The OS user it runs as, when not the platform's own. */
  uid?: number;
}

/** Capacity owns the CPU share an instance reserves; the orchestrator starts it with the same. */
export { INSTANCE_CPU } from '../capacity/admission.ts';
