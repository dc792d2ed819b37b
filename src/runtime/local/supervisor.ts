/**
 * The `local` runtime driver's supervisor: instances as supervised processes on this host.
 * Instances outlive the supervisor (own session, own log descriptor, state records on disk),
 * so a control plane that restarts, or is killed, picks them up again with recover().
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lockDataDir } from '../../platform/lockfile.ts';
import type { InstanceSpec, InstanceStatus } from '../runtime.types.ts';
import { type CgroupLayout, detectCgroups, InstanceCgroup } from './cgroups.ts';
import { SupervisedInstance } from './instance.ts';
import type { InstanceBase } from './instance-base.ts';
import { RecordStore } from './instance-record.ts';
import { type LocalSupervisorOptions, type SupervisorLogger, silentLogger } from './local.types.ts';
import { logFile, readLogTail, rotateIfLarge } from './log-files.ts';
import { PortAllocator } from './ports.ts';
import { allGroups, isRunning } from './process-tree.ts';
import { validateSpec } from './validate-spec.ts';
import { waitForHealthy } from './wait-healthy.ts';

const DEFAULT_LOG_MAX_BYTES = 1024 * 1024;
const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';
/** Log rotation checks: a log can pass its limit by what the instance writes in this time. */
const HOUSEKEEPING_MS = 250;
/** Memory is sampled every this many housekeeping beats: it may read all of /proc. */
const MEMORY_EVERY = 4;

export class LocalSupervisor extends EventEmitter<{ change: [InstanceStatus] }> {
  private readonly instances = new Map<string, SupervisedInstance>();
  /** Ids between the checks of start() and the instance's arrival in `instances`. */
  private readonly arriving = new Set<string>();
  private readonly records: RecordStore;
  private readonly ports: PortAllocator;
  private readonly logger: SupervisorLogger;
  private readonly logDir: string;
  private readonly logMaxBytes: number;
  private readonly cgroupRoot: string | null;
  private layout: CgroupLayout | null = null;
  private readonly housekeeping: NodeJS.Timeout;
  private tidying = false;
  private beats = 0;
  private closed = false;
  private readonly unlock: () => void;

  /** Throws when another live process supervises the same stateDir. */
  constructor(opts: LocalSupervisorOptions) {
    super();
    this.logger = opts.logger ?? silentLogger;
    this.logDir = opts.logDir;
    this.logMaxBytes = opts.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.cgroupRoot = opts.cgroupRoot === undefined ? DEFAULT_CGROUP_ROOT : opts.cgroupRoot;
    mkdirSync(this.logDir, { recursive: true, mode: 0o750 });
    this.records = new RecordStore(opts.stateDir);
    // Two supervisors on one stateDir would both adopt, and both restart, the same instances.
    this.unlock = lockDataDir(opts.stateDir);
    this.ports = new PortAllocator(opts.portRange);
    this.housekeeping = setInterval(() => void this.tidy(), HOUSEKEEPING_MS);
    this.housekeeping.unref();
  }

  /** Spawns an instance on a new loopback port; resolves once it runs (not yet healthy). */
  async start(spec: InstanceSpec): Promise<InstanceStatus> {
    this.assertOpen();
    validateSpec(spec);
    const id = spec.instanceId;
    if (this.instances.has(id) || this.arriving.has(id))
      throw new Error(`instance ${id} is already supervised`);
    if (existsSync(join(this.records.dir, `${id}.json`))) {
      throw new Error(`instance ${id} has a state record from an earlier supervisor: call recover() first`);
    }
    this.arriving.add(id);
    try {
      const port = await this.ports.allocate();
      const instance = this.create(spec, port);
      // In the map before it spawns, so that a 'change' listener can already get() it.
      this.instances.set(id, instance);
      try {
        await instance.launch();
        await instance.save();
      } catch (err) {
        // Leave nothing behind: no process without a record, no cgroup, no reserved port.
        await instance.stop(0);
        this.instances.delete(id);
        this.ports.release(port);
        throw err;
      }
      this.logger.info({ instanceId: id, pid: instance.pid, port }, 'instance started');
      return instance.status();
    } finally {
      this.arriving.delete(id);
    }
  }

  private create(spec: InstanceSpec, port: number): SupervisedInstance {
    this.layout ??= detectCgroups(this.cgroupRoot);
    const made = InstanceCgroup.create(this.layout, spec.instanceId, spec.memoryMb, spec.cpu);
    const cgroup = made instanceof InstanceCgroup ? made : null;
    const limits = made instanceof InstanceCgroup ? made.limits : made;
    return new SupervisedInstance(spec, port, this.logPath(spec.instanceId), cgroup, limits, {
      records: this.records,
      logger: this.logger,
      changed: (instance) => this.announce(instance),
    });
  }

  private announce(instance: InstanceBase): void {
    try {
      this.emit('change', instance.status());
    } catch (err) {
      // A listener's bug must not break supervision of every instance.
      this.logger.error({ err, instanceId: instance.spec.instanceId }, 'change listener failed');
    }
  }

  /**
   * Rejects with an InstanceStartError saying why (exit code or signal, timeout, stop) and the
   * last log lines. Default timeout: the spec's healthCheck.startTimeoutSec.
   */
  waitHealthy(instanceId: string, timeoutMs?: number): Promise<InstanceStatus> {
    const instance = this.require(instanceId);
    const timeout = timeoutMs ?? instance.spec.healthCheck.startTimeoutSec * 1000;
    return waitForHealthy(this, instance, timeout, (lines) => this.readLogs(instanceId, { tail: lines }));
  }

  /** SIGTERM to the instance's process group, SIGKILL after graceMs; it is not restarted. */
  async stop(instanceId: string, graceMs = 10_000): Promise<InstanceStatus> {
    this.assertOpen();
    const instance = this.require(instanceId);
    const status = await instance.stop(graceMs);
    this.instances.delete(instanceId);
    this.ports.release(instance.port);
    this.logger.info({ instanceId }, 'instance stopped');
    return status;
  }

  list(): InstanceStatus[] {
    return [...this.instances.values()].map((i) => i.status());
  }

  get(instanceId: string): InstanceStatus | undefined {
    return this.instances.get(instanceId)?.status();
  }

  logPath(instanceId: string): string {
    return logFile(this.logDir, instanceId);
  }

  /** The last `tail` lines (all without it) of the previous and current log, oldest first. */
  readLogs(instanceId: string, opts: { tail?: number } = {}): Promise<string[]> {
    return readLogTail(this.logPath(instanceId), opts.tail);
  }

  /**
   * Picks up the instances in stateDir after a control-plane restart: adopts each that still
   * runs (same pid, same start time), starts again on its port each that is gone.
   */
  async recover(): Promise<InstanceStatus[]> {
    this.assertOpen();
    const { records, problems } = await this.records.loadAll();
    for (const problem of problems) this.logger.warn(problem, 'unreadable state record skipped');
    const recovered: InstanceStatus[] = [];
    for (const record of records) {
      const id = record.spec.instanceId;
      if (this.instances.has(id) || this.arriving.has(id)) continue;
      this.ports.reserve(record.port);
      const instance = this.create(record.spec, record.port);
      this.instances.set(id, instance);
      if (isRunning(record.pid, record.startTime)) {
        instance.adopt(record);
        this.logger.info({ instanceId: id, pid: record.pid }, 'instance adopted');
      } else {
        await instance.resume(record);
        this.logger.warn({ instanceId: id, oldPid: record.pid }, 'instance was gone; started again');
      }
      recovered.push(instance.status());
    }
    return recovered;
  }

  /** Stops supervising without killing anything: the instances keep running for recover(). */
  detach(): void {
    if (this.closed) return;
    this.close();
    for (const instance of this.instances.values()) instance.detach();
    this.instances.clear();
  }

  /** Stops every instance (platform shutdown) and then this supervisor. */
  async stopAll(graceMs = 10_000): Promise<void> {
    if (this.closed) return;
    const results = await Promise.allSettled([...this.instances.keys()].map((id) => this.stop(id, graceMs)));
    // Shut down even when one stop failed, then say so.
    this.close();
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private close(): void {
    this.closed = true;
    clearInterval(this.housekeeping);
    this.unlock();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('this supervisor was detached or shut down');
  }

  private require(instanceId: string): SupervisedInstance {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new Error(`no instance ${instanceId} is supervised here`);
    return instance;
  }

  /** Rotates logs that passed their size and samples memory; skips a beat rather than overlap. */
  private async tidy(): Promise<void> {
    if (this.tidying) return;
    this.tidying = true;
    let groups: Map<number, number[]> | undefined;
    const sample = this.beats++ % MEMORY_EVERY === 0;
    try {
      for (const instance of this.instances.values()) {
        if (sample) {
          instance.sampleMemory(() => {
            groups ??= allGroups();
            return groups;
          });
        }
        if (await rotateIfLarge(instance.logPath, this.logMaxBytes)) {
          this.logger.info({ instanceId: instance.spec.instanceId }, 'log rotated');
        }
      }
    } catch (err) {
      this.logger.warn({ err }, 'housekeeping failed');
    } finally {
      this.tidying = false;
    }
  }
}
