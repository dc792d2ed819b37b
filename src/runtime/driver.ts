import type { InstanceSpec, InstanceStatus } from './runtime.types.ts';

/** What the orchestration needs of a runtime driver; the local supervisor provides it. */
export interface InstanceDriver {
  start(spec: InstanceSpec): Promise<InstanceStatus>;
  /** Resolves once healthy; rejects with the reason (exit, timeout, last log lines). */
  waitHealthy(instanceId: string, timeoutMs?: number): Promise<InstanceStatus>;
  stop(instanceId: string, graceMs?: number): Promise<unknown>;
  list(): InstanceStatus[];
  /** Re-attaches to the instances a previous control-plane process left running. */
  recover(): Promise<InstanceStatus[]>;
  stopAll(graceMs?: number): Promise<void>;
  /** Stops watching without stopping the instances. */
  detach(): void;
  logPath(instanceId: string): string;
  on(event: 'change', listener: (status: InstanceStatus) => void): unknown;
}

/** What the orchestration needs of the router. */
export interface RouterControl {
  putRoutes(table: import('../router/route-table.ts').RouteTable): Promise<void>;
  /** In-flight requests per backend (instance) id. */
  inflight(): Promise<Record<string, number>>;
}
