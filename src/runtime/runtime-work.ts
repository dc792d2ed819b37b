import type { LifecycleState } from '../catalog/catalog.tables.ts';
import type { OsUser } from './local/os-users.ts';
import type { IsolationStatus } from './orchestrator.ts';
import type { InstanceStatus } from './runtime.types.ts';

/** A service as the runtime names it. */
export interface ServiceRef {
  id: string;
  slug: string;
  departmentCode: string;
}

/** An instance as the API shows it: its driver status, and whether the router sends it traffic. */
export type LiveInstance = InstanceStatus & { serving: boolean };

/**
 * What the API asks of the runtime. On the replica that holds the runtime lease it is the
 * orchestrator itself; on every other replica the work is queued in the store (the deployment
 * rows the request wrote) for the holder, and live state is read from what the holder records.
 */
export interface RuntimeWork {
  /** Starts (or queues) the rollout of a recorded deployment. */
  rollout(
    svc: ServiceRef,
    deploymentId: string,
    releaseId: string,
    opts?: { noCache?: boolean },
  ): Promise<void>;
  /** Starts (or queues) a recorded scale. */
  scale(svc: ServiceRef, deploymentId: string, replaceAll: boolean): Promise<void>;
  /** A service entered a lifecycle state: stop it, or run it again. */
  applyLifecycle(svc: ServiceRef, state: LifecycleState): Promise<void>;
  instances(serviceId: string): LiveInstance[] | Promise<LiveInstance[]>;
  runAs(serviceId: string): OsUser | null | Promise<OsUser | null>;
  isolation(): IsolationStatus | Promise<IsolationStatus>;
  /** The instance's log file on this host; empty where the driver keeps none (Kubernetes). */
  logPath(instanceId: string): string;
  /** Where there is no log file: the instance's last lines (all without `tail`) through the driver. */
  readLog?(instanceId: string, tail?: number): Promise<string[]>;
  failedInstance(serviceId: string): string | null | Promise<string | null>;
  /**
   * Certificates, HTTPS settings or custom host names (approved, rejected, removed) changed
   * (decisions 031 and 032): the route table is built and published again.
   */
  edgeChanged(): Promise<void>;
}
