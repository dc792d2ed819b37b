/**
 * The release-level driver contract over the local supervisor: a release's instances are
 * supervised processes on this host, each in its own copy of the release's folder. The
 * supervisor's behaviour (ports, restarts with back-off, health checks, cgroups) is unchanged;
 * this only groups its instances by release and speaks the contract's words.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { instanceStart } from '../../build/instance-start.ts';
import { Phases } from '../../platform/phases.ts';
import type {
  InstanceEvent,
  ReadyOutcome,
  ReleaseDriver,
  ReleaseInstance,
  ReleaseSpec,
} from '../release-driver.ts';
import type { InstanceState, InstanceStatus } from '../runtime.types.ts';
import { shortId } from '../workdir.ts';
import { defaultPath } from './spawn-instance.ts';
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
}

interface Release {
  /** Null for a release found by `recover` until the orchestrator deploys it again. */
  spec: ReleaseSpec | null;
  /** The wanted instances, in index order. */
  ids: string[];
  /** Instances a `renew` replaced, serving until the caller `remove`s them. */
  leaving: string[];
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

  async deploy(spec: ReleaseSpec, phases?: Phases): Promise<void> {
    if (spec.artifact.kind !== 'droplet' || !spec.artifact.dir)
      throw new Error(
        'the local runtime runs droplets unpacked on this host; it cannot run a container image',
      );
    const known = this.releases.get(spec.releaseId);
    if (known) {
      known.spec = spec;
      return this.resize(known, spec.instances, phases);
    }
    this.releases.set(spec.releaseId, { spec, ids: [], leaving: [] });
    await this.add(spec.releaseId, spec.instances, phases);
  }

  private async add(releaseId: string, count: number, phases = new Phases()): Promise<void> {
    const release = this.require(releaseId);
    const spec = release.spec;
    if (!spec) throw new Error(`release ${releaseId} was recovered but not deployed again`);
    const artifact = spec.artifact as Extract<ReleaseSpec['artifact'], { kind: 'droplet' }>;
    const uid = spec.uid ?? null;
    for (let i = 0; i < count; i++) {
      const index = release.ids.length;
      const instanceId = `${spec.serviceKey.replace('/', '-').toLowerCase()}-v${spec.version}-${index}-${shortId()}`;
      const make = this.opts.instanceDir;
      const workDir = make
        ? await phases.time('instance folder', () => make(spec, instanceId))
        : artifact.dir!;
      release.ids.push(instanceId);
      const env: Record<string, string> = { ...spec.env, ...spec.secretEnv };
      const run = artifact.run ?? { pathPrepend: [], pathEnv: {} };
      // A droplet's own PATH entries and variables (a Python venv) are relative to its folder.
      if (run.pathPrepend.length > 0)
        env.PATH = [...run.pathPrepend.map((p) => join(workDir, p)), env.PATH ?? defaultPath()].join(':');
      for (const [k, v] of Object.entries(run.pathEnv)) env[k] = join(workDir, v);
      const start = instanceStart(run, artifact.command, workDir, env.PATH ?? defaultPath());
      const started = this.opts.supervisor.start({
        instanceId,
        serviceId: spec.serviceId,
        serviceKey: spec.serviceKey,
        releaseId: spec.releaseId,
        workDir,
        command: start.command,
        env: { ...env, ...start.env, GOVHOST_INSTANCE_INDEX: String(index) },
        memoryMb: spec.memoryMb,
        cpu: spec.cpu,
        healthCheck: spec.healthCheck,
        ...(uid !== null ? { uid, gid: uid } : {}),
      });
      await phases.time('process start', () => started);
    }
  }

  async recover(): Promise<ReleaseInstance[]> {
    const found = await this.opts.supervisor.recover();
    for (const s of found) {
      const release = this.releases.get(s.releaseId);
      if (release) {
        if (!release.ids.includes(s.instanceId)) release.ids.push(s.instanceId);
      } else this.releases.set(s.releaseId, { spec: null, ids: [s.instanceId], leaving: [] });
    }
    return found.map(toInstance);
  }

  async renew(releaseId: string): Promise<string[]> {
    const release = this.require(releaseId);
    const old = release.ids;
    release.leaving.push(...old);
    release.ids = [];
    await this.add(releaseId, old.length);
    return old;
  }

  async remove(releaseId: string, instanceIds: string[], graceMs = 10_000): Promise<void> {
    const release = this.require(releaseId);
    const going = new Set(instanceIds);
    release.ids = release.ids.filter((id) => !going.has(id));
    release.leaving = release.leaving.filter((id) => !going.has(id));
    // The fresh set of a renew that failed went: the old set is the release's again.
    if (release.ids.length === 0) [release.ids, release.leaving] = [release.leaving, []];
    if (release.spec) release.spec = { ...release.spec, instances: release.ids.length };
    await Promise.all(instanceIds.map((id) => this.opts.supervisor.stop(id, graceMs).catch(() => undefined)));
  }

  list(): ReleaseInstance[] {
    return [...this.releases.keys()].flatMap((id) => this.instances(id));
  }

  logPath(instanceId: string): string {
    return this.opts.supervisor.logPath(instanceId);
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

  scale(releaseId: string, instances: number): Promise<void> {
    return this.resize(this.require(releaseId), instances);
  }

  private async resize(release: Release, instances: number, phases?: Phases): Promise<void> {
    if (release.spec) release.spec = { ...release.spec, instances };
    const surplus = release.ids.slice(instances);
    if (surplus.length > 0) {
      release.ids = release.ids.slice(0, instances);
      await Promise.all(surplus.map((id) => this.opts.supervisor.stop(id, 10_000).catch(() => undefined)));
    } else if (release.spec) await this.add(release.spec.releaseId, instances - release.ids.length, phases);
  }

  async stop(releaseId: string, graceMs = 10_000): Promise<void> {
    const release = this.releases.get(releaseId);
    if (!release) return;
    // Forgotten first: a stop in progress is not a release to adopt or list.
    this.releases.delete(releaseId);
    await Promise.all(
      [...release.ids, ...release.leaving].map((id) =>
        this.opts.supervisor.stop(id, graceMs).catch(() => undefined),
      ),
    );
  }

  instances(releaseId: string): ReleaseInstance[] {
    const release = this.releases.get(releaseId);
    const ids = new Set([...(release?.ids ?? []), ...(release?.leaving ?? [])]);
    return this.opts.supervisor
      .list()
      .filter((s) => ids.has(s.instanceId))
      .map(toInstance);
  }

  async logs(releaseId: string, opts: { tail?: number; instanceId?: string } = {}): Promise<string[]> {
    const lines: string[] = [];
    const ids = opts.instanceId ? [opts.instanceId] : (this.releases.get(releaseId)?.ids ?? []);
    for (const id of ids) lines.push(...(await this.opts.supervisor.readLogs(id, opts)));
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
    serviceId: s.serviceId,
    releaseId: s.releaseId,
    state: STATES[s.state],
    restarts: s.restarts,
    endpoint: { host: '127.0.0.1', port: s.port },
    process: s,
  };
}
