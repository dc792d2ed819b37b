/**
 * The release-level driver contract over the local supervisor: a release's instances are
 * supervised processes on this host, each in its own copy of the release's folder. The
 * supervisor's behaviour (ports, restarts with back-off, health checks, cgroups) is unchanged;
 * this only groups its instances by release and speaks the contract's words.
 */
import { EventEmitter } from 'node:events';
import type {
  InstanceEvent,
  ReadyOutcome,
  ReleaseDriver,
  ReleaseInstance,
  ReleaseSpec,
} from '../release-driver.ts';
import type { InstanceState, InstanceStatus } from '../runtime.types.ts';
import { shortId } from '../workdir.ts';
import type { LocalSupervisor } from './supervisor.ts';
import { InstanceStartError } from './wait-healthy.ts';

const STATES: Record<InstanceState, ReleaseInstance['state']> = {
  starting: 'starting',
  healthy: 'ready',
  unhealthy: 'unready',
  backoff: 'crashed',
  'crash-loop': 'crashed',
  stopping: 'stopping',
  stopped: 'stopping',
};

/** Makes the folder one instance runs in (a fresh copy of the release's droplet folder). */
export type InstanceDirMaker = (spec: ReleaseSpec, instanceId: string) => Promise<string>;

export interface LocalReleaseDriverOptions {
  supervisor: LocalSupervisor;
  /** Default: the droplet's own folder, shared (tests); the platform gives each its own copy. */
  instanceDir?: InstanceDirMaker;
  /** Run instances as this OS user (the service's), when the platform runs as root. */
  uid?: (spec: ReleaseSpec) => Promise<number | null>;
}

interface Release {
  spec: ReleaseSpec;
  ids: string[];
}

export class LocalReleaseDriver implements ReleaseDriver {
  readonly name = 'local';
  private readonly releases = new Map<string, Release>();
  private readonly events = new EventEmitter<{ instance: [InstanceEvent] }>();
  private readonly onChange = (s: InstanceStatus) => this.changed(s);

  constructor(private readonly opts: LocalReleaseDriverOptions) {
    opts.supervisor.on('change', this.onChange);
  }

  private changed(s: InstanceStatus): void {
    if (!this.releases.has(s.releaseId)) return;
    const instance = toInstance(s);
    const reason = s.lastExit
      ? `exited (${s.lastExit.signal ?? `code ${s.lastExit.code}`}) at ${s.lastExit.at}`
      : undefined;
    this.events.emit(
      'instance',
      reason && instance.state === 'crashed' ? { instance, reason } : { instance },
    );
  }

  async deploy(spec: ReleaseSpec): Promise<void> {
    if (spec.artifact.kind !== 'droplet' || !spec.artifact.dir)
      throw new Error(
        'the local runtime runs droplets unpacked on this host; it cannot run a container image',
      );
    const known = this.releases.get(spec.releaseId);
    if (known) {
      known.spec = spec;
      return this.scale(spec.releaseId, spec.instances);
    }
    this.releases.set(spec.releaseId, { spec, ids: [] });
    await this.add(spec.releaseId, spec.instances);
  }

  private async add(releaseId: string, count: number): Promise<void> {
    const release = this.require(releaseId);
    const { spec } = release;
    const artifact = spec.artifact as Extract<ReleaseSpec['artifact'], { kind: 'droplet' }>;
    const uid = (await this.opts.uid?.(spec)) ?? null;
    for (let i = 0; i < count; i++) {
      const index = release.ids.length;
      const instanceId = `${spec.serviceKey.replace('/', '-').toLowerCase()}-v${spec.version}-${index}-${shortId()}`;
      const workDir = this.opts.instanceDir ? await this.opts.instanceDir(spec, instanceId) : artifact.dir!;
      release.ids.push(instanceId);
      await this.opts.supervisor.start({
        instanceId,
        serviceId: spec.serviceId,
        serviceKey: spec.serviceKey,
        releaseId: spec.releaseId,
        workDir,
        command: artifact.command,
        env: { ...spec.env, ...spec.secretEnv, GOVHOST_INSTANCE_INDEX: String(index) },
        memoryMb: spec.memoryMb,
        cpu: spec.cpu,
        healthCheck: spec.healthCheck,
        ...(uid !== null ? { uid, gid: uid } : {}),
      });
    }
  }

  async waitReady(releaseId: string, timeoutMs?: number): Promise<ReadyOutcome> {
    const release = this.require(releaseId);
    try {
      await Promise.all(release.ids.map((id) => this.opts.supervisor.waitHealthy(id, timeoutMs)));
      return { ready: true, instances: this.instances(releaseId) };
    } catch (err) {
      const instanceId = err instanceof InstanceStartError ? err.instanceId : undefined;
      return { ready: false, reason: (err as Error).message, ...(instanceId ? { instanceId } : {}) };
    }
  }

  async scale(releaseId: string, instances: number): Promise<void> {
    const release = this.require(releaseId);
    release.spec = { ...release.spec, instances };
    const surplus = release.ids.slice(instances);
    if (surplus.length > 0) {
      release.ids = release.ids.slice(0, instances);
      await Promise.all(surplus.map((id) => this.opts.supervisor.stop(id, 10_000).catch(() => undefined)));
    } else await this.add(releaseId, instances - release.ids.length);
  }

  async stop(releaseId: string, graceMs = 10_000): Promise<void> {
    const release = this.releases.get(releaseId);
    if (!release) return;
    await Promise.all(release.ids.map((id) => this.opts.supervisor.stop(id, graceMs).catch(() => undefined)));
    this.releases.delete(releaseId);
  }

  instances(releaseId: string): ReleaseInstance[] {
    const ids = new Set(this.releases.get(releaseId)?.ids ?? []);
    return this.opts.supervisor
      .list()
      .filter((s) => ids.has(s.instanceId))
      .map(toInstance);
  }

  async logs(releaseId: string, opts: { tail?: number } = {}): Promise<string[]> {
    const lines: string[] = [];
    for (const id of this.releases.get(releaseId)?.ids ?? [])
      lines.push(...(await this.opts.supervisor.readLogs(id, opts)));
    return opts.tail !== undefined ? lines.slice(-opts.tail) : lines;
  }

  on(event: 'instance', listener: (e: InstanceEvent) => void) {
    return this.events.on(event, listener);
  }

  off(event: 'instance', listener: (e: InstanceEvent) => void) {
    return this.events.off(event, listener);
  }

  async close(): Promise<void> {
    this.opts.supervisor.off('change', this.onChange);
  }

  private require(releaseId: string): Release {
    const release = this.releases.get(releaseId);
    if (!release) throw new Error(`release ${releaseId} is not deployed on this driver`);
    return release;
  }
}

function toInstance(s: InstanceStatus): ReleaseInstance {
  return {
    instanceId: s.instanceId,
    releaseId: s.releaseId,
    state: STATES[s.state],
    restarts: s.restarts,
    endpoint: { host: '127.0.0.1', port: s.port },
  };
}
