/**
 * The runtime driver contract at the level Kubernetes works at: a release's set of instances.
 * The orchestrator decides *what* runs (which release, how many, when routes switch); a driver
 * makes a release's instances exist, says when they are ready or why they failed, and reports
 * what happens to them afterwards. `local` implements it over the supervisor (one process per
 * instance), `kubernetes` with one Deployment per release. The conformance suite in
 * `conformance/` holds every driver to the same behaviour.
 */
import type { DropletRun } from '../build/build.tables.ts';
import type { Phases } from '../platform/phases.ts';
import type { HealthCheck, InstanceStatus } from './runtime.types.ts';

/** What a release's instances run: a droplet started by a stack image, or a container image. */
export type ReleaseArtifact =
  | {
      kind: 'droplet';
      /** Content address of the droplet; pods fetch it and check this sum. */
      sha256: string;
      /** The builder that staged it (`node`, `python`): picks the stack image on Kubernetes. */
      builder: string;
      /** Shell command line that starts one instance, run in the droplet's folder. */
      command: string;
      /** The droplet unpacked on this host: the local driver runs instances in copies of it. */
      dir?: string;
      /**
       * How the droplet runs (its PATH entries and variables relative to its folder, a direct
       * start for `npm start`): resolved against each instance's folder locally, against the
       * pod's app folder on Kubernetes. Absent: the command runs as it is.
       */
      run?: DropletRun;
    }
  | { kind: 'image'; image: string; command?: string };

export interface ReleaseSpec {
  serviceId: string;
  /** `DEPT/slug`, for names, labels, logs and messages. */
  serviceKey: string;
  releaseId: string;
  /** The release's number (`v3`), part of object names. */
  version: number;
  instances: number;
  memoryMb: number;
  /** Share of one CPU per instance. */
  cpu: number;
  /** Ephemeral disk per instance (the manifest's disk_quota). */
  diskMb: number;
  healthCheck: HealthCheck;
  env: Record<string, string>;
  /** Variables marked secret: a Secret on Kubernetes, plain environment locally. */
  secretEnv: Record<string, string>;
  artifact: ReleaseArtifact;
  /** The service's SLA tier: gold gets a disruption budget and a spread over farms. */
  tier: 'gold' | 'silver' | 'bronze';
  /** The OS user instances run as on this host (the service's); null or absent: the platform's. */
  uid?: number | null;
}

/** One instance of a release as the driver sees it. */
export interface ReleaseInstance {
  instanceId: string;
  /** The service the release belongs to (the local driver's records and the pods' labels say). */
  serviceId: string;
  releaseId: string;
  state: 'starting' | 'ready' | 'unready' | 'crashed' | 'stopping';
  restarts: number;
  /** Where the router reaches it (loopback port; pod IP and container port); null until known. */
  endpoint: { host: string; port: number } | null;
  /**
   * The process as the local supervisor sees it (pid, memory, limits, last exit, uid), for
   * status output; absent on drivers that run no process on this host.
   */
  process?: InstanceStatus;
}

/** Something that happened to an instance: a state change or a restart. */
export interface InstanceEvent {
  instance: ReleaseInstance;
  /** Why, when the driver knows: the exit, the failed check. */
  reason?: string;
}

export type ReadyOutcome =
  | { ready: true; instances: ReleaseInstance[] }
  | { ready: false; reason: string; instanceId?: string };

/** A runtime driver: runs releases' instances, one release as one unit. */
export interface ReleaseDriver {
  readonly name: string;
  /**
   * Creates (or updates in place) the release's instances; does not wait for them. `phases`
   * collects where the seconds go (the local driver: instance folders, process starts).
   */
  deploy(spec: ReleaseSpec, phases?: Phases): Promise<void>;
  /**
   * Resolves once every wanted instance of the release is ready, or with the reason one failed
   * (exit, failed check, start timeout). Failed instances are left for the caller to stop.
   */
  waitReady(releaseId: string, timeoutMs?: number): Promise<ReadyOutcome>;
  /** Changes the number of the release's instances; surplus ones are drained and stopped. */
  scale(releaseId: string, instances: number): Promise<void>;
  /** Drains and removes every instance of the release; resolves once none runs. */
  stop(releaseId: string, graceMs?: number): Promise<void>;
  /** The release's instances now. */
  instances(releaseId: string): ReleaseInstance[];
  /** Every instance this driver runs, of every release. */
  list(): ReleaseInstance[];
  /**
   * After a control-plane start or a takeover: re-attaches to what a previous process left
   * running and lists it, each instance with its service and release. The releases found are
   * known to the driver from then on; a `deploy` of one of them with its spec adopts its
   * instances (and starts or stops the difference) rather than starting a second set.
   */
  recover(): Promise<ReleaseInstance[]>;
  /**
   * A restart: a fresh set of the release's instances starts beside the running ones, which go
   * on serving; `waitReady` then waits for the fresh set. Resolves with the old instances' ids,
   * which the caller drains and passes to `remove` (on Kubernetes, where the Deployment replaces
   * its pods itself, with none).
   */
  renew(releaseId: string): Promise<string[]>;
  /**
   * Stops these instances of the release (the caller has drained them) and lowers its count by
   * as many. On Kubernetes the ReplicaSet chooses which pods go: the count is what holds.
   */
  remove(releaseId: string, instanceIds: string[], graceMs?: number): Promise<void>;
  /**
   * The last lines the release's instances wrote (one instance's with `instanceId`), each line
   * its text only.
   */
  logs(releaseId: string, opts?: { tail?: number; instanceId?: string }): Promise<string[]>;
  on(event: 'instance', listener: (e: InstanceEvent) => void): unknown;
  off(event: 'instance', listener: (e: InstanceEvent) => void): unknown;
  /** Stops watching; instances keep running. */
  close(): Promise<void>;
  /**
   * The file an instance writes its output to, where the driver keeps one on this host (the
   * local driver: `govhost logs` follows it); absent where logs are only read through `logs`.
   */
  logPath?(instanceId: string): string;
}

/** Waits for the first instance event that passes `test` (or one already true by `now`). */
export function nextEvent(
  driver: ReleaseDriver,
  test: (e: InstanceEvent) => boolean,
  timeoutMs: number,
  what: string,
): Promise<InstanceEvent> {
  return new Promise((resolve, reject) => {
    const listener = (e: InstanceEvent) => {
      if (!test(e)) return;
      clearTimeout(timer);
      driver.off('instance', listener);
      resolve(e);
    };
    const timer = setTimeout(() => {
      driver.off('instance', listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    driver.on('instance', listener);
  });
}
