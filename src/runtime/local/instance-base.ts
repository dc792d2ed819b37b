/**
 * What the supervisor knows about an instance, how it reports it (InstanceStatus, 'change'
 * events, the state record) and how it samples it. What it does with the processes is in
 * instance.ts.
 */
import type { InstanceSpec, InstanceState, InstanceStatus, LimitsReport } from '../runtime.types.ts';
import type { InstanceCgroup } from './cgroups.ts';
import type { RecordStore } from './instance-record.ts';
import type { SupervisorLogger } from './local.types.ts';
import { isRunning, residentBytes } from './process-tree.ts';
import type { RunProcesses } from './terminate.ts';

export interface InstanceContext {
  records: RecordStore;
  logger: SupervisorLogger;
  /** Called after every change of state, pid or restart count. */
  changed(instance: InstanceBase): void;
}

export const now = () => new Date().toISOString();

export const describeExit = (exit: { code: number | null; signal: string | null }) =>
  exit.signal ? `signal ${exit.signal}` : exit.code !== null ? `code ${exit.code}` : 'an unknown status';

export abstract class InstanceBase {
  state: InstanceState = 'starting';
  pid: number | null = null;
  restarts = 0;
  startedAt = now();
  lastExit: InstanceStatus['lastExit'] = null;
  memoryBytes: number | null = null;
  /** Grows with every exit: how waitHealthy tells "it exited since I asked". */
  exits = 0;
  /** The last failed check or spawn error, for messages. */
  lastProblem: string | null = null;
  /** /proc start time of the current run's first process: with the pid, it names the process. */
  protected startTime = 0;
  /** Whether the current run is inside its cgroups, which then list all its processes. */
  protected joined = true;

  constructor(
    readonly spec: InstanceSpec,
    readonly port: number,
    readonly logPath: string,
    protected readonly cgroup: InstanceCgroup | null,
    public limits: LimitsReport,
    protected readonly ctx: InstanceContext,
  ) {}

  protected abstract healthyAt(): string | null;

  status(): InstanceStatus {
    return {
      instanceId: this.spec.instanceId,
      serviceId: this.spec.serviceId,
      releaseId: this.spec.releaseId,
      pid: this.pid,
      port: this.port,
      state: this.state,
      restarts: this.restarts,
      startedAt: this.startedAt,
      healthyAt: this.healthyAt(),
      lastExit: this.lastExit && { ...this.lastExit },
      limits: { ...this.limits },
      memoryBytes: this.memoryBytes,
      memoryLimitBytes: this.spec.memoryMb * 1024 * 1024,
      ...(this.spec.uid !== undefined ? { uid: this.spec.uid } : {}),
    };
  }

  protected running(): boolean {
    return this.pid !== null && isRunning(this.pid, this.startTime);
  }

  protected setState(state: InstanceState, always = false): void {
    if (state === this.state && !always) return;
    this.state = state;
    this.ctx.changed(this);
  }

  /** The state record: what a supervisor after us needs to adopt or restart this instance. */
  save(): Promise<void> {
    if (this.pid === null) return Promise.resolve();
    return this.ctx.records.save({
      version: 1,
      spec: this.spec,
      port: this.port,
      pid: this.pid,
      startTime: this.startTime,
      startedAt: this.startedAt,
      restarts: this.restarts,
    });
  }

  protected saveInBackground(): void {
    this.save().catch((err: Error) =>
      this.ctx.logger.error({ instanceId: this.spec.instanceId, err }, 'cannot write the state record'),
    );
  }

  protected processes(pgid: number | null): RunProcesses {
    return { pgid, cgroup: this.joined ? this.cgroup : null };
  }

  /** Memory from the cgroup, else the resident size of the process group's members. */
  sampleMemory(groups: () => Map<number, number[]>): void {
    if (this.pid === null) return;
    this.memoryBytes = this.cgroup?.memoryBytes() ?? residentBytes(groups().get(this.pid) ?? [this.pid]);
  }
}
