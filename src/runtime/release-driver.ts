/**
 * The runtime driver contract at the level Kubernetes works at: a release's set of instances.
 * The orchestrator decides *what* runs (which release, how many, when routes switch); a driver
 * makes a release's instances exist, says when they are ready or why they failed, and reports
 * what happens to them afterwards. `local` implements it over the supervisor (one process per
 * instance), `kubernetes` with one Deployment per release. The conformance suite in
 * `conformance/` holds every driver to the same behaviour.
 */
import type { HealthCheck } from './runtime.types.ts';

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
}

/** One instance of a release as the driver sees it. */
export interface ReleaseInstance {
  instanceId: string;
  releaseId: string;
  state: 'starting' | 'ready' | 'unready' | 'crashed' | 'stopping';
  restarts: number;
  /** Where the router reaches it (loopback port; pod IP and container port); null until known. */
  endpoint: { host: string; port: number } | null;
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
  /** Creates (or updates in place) the release's instances; does not wait for them. */
  deploy(spec: ReleaseSpec): Promise<void>;
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
  /** The last lines the release's instances wrote, each prefixed by nothing but its text. */
  logs(releaseId: string, opts?: { tail?: number }): Promise<string[]>;
  on(event: 'instance', listener: (e: InstanceEvent) => void): unknown;
  off(event: 'instance', listener: (e: InstanceEvent) => void): unknown;
  /** Stops watching; instances keep running. */
  close(): Promise<void>;
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
