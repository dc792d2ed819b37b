/**
 * The `kubernetes` runtime driver: a release is one Deployment in its department's namespace,
 * applied server-side; its instances are the Deployment's pods, followed by a watch (no polling
 * loop); readiness is the pods' readiness probes. The orchestrator above switches routes to the
 * ready pods' endpoints, then stops the old release (its Deployment deleted).
 */
import { EventEmitter } from 'node:events';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type {
  InstanceEvent,
  ReadyOutcome,
  ReleaseDriver,
  ReleaseInstance,
  ReleaseSpec,
} from '../release-driver.ts';
import { type DepartmentQuota, departmentObjects, type RouterPeer } from './department-objects.ts';
import type { KubeClient, WatchPhase } from './kube-client.ts';
import { departmentNamespace, deploymentName, FIELD_MANAGER, LABELS, splitKey } from './names.ts';
import { podFailure, podInstance, podProgress } from './pod-state.ts';
import { dropletSecret, releaseObjects, releaseSecrets, secretNamesOf } from './release-objects.ts';
import { STAGING_LABEL } from './staging-objects.ts';

/** A signed, short-lived URL of a droplet's archive, and the archive's sha256. */
export interface DropletLink {
  url: string;
  sha256: string;
  /** Seconds the URL stays valid: the driver signs a new one before half of it has passed. */
  ttlSec: number;
}

export interface KubernetesDriverOptions {
  client: KubeClient;
  stackImages: Readonly<Record<string, string>>;
  fetchImage: string;
  router: RouterPeer;
  quota(departmentCode: string): Promise<DepartmentQuota>;
  droplet(spec: ReleaseSpec): Promise<DropletLink>;
  /** Added to a release's start timeout while waiting for it: images are pulled first. */
  readyMarginMs?: number;
  /** Longest wait for a stopped release's pods to be gone, past their grace. */
  stopMarginMs?: number;
}

interface Release {
  spec: ReleaseSpec;
  namespace: string;
  pods: Map<string, IPod>;
  watch: AbortController | null;
  refresh: NodeJS.Timeout | null;
  /** sha256 of the droplet archive its pods check (a scale re-applies the same). */
  archiveSha256: string | undefined;
  /** Watches that failed in a row (reset by any event): how long to wait before the next. */
  watchFailures: number;
  /** The stamp of the last restart, on the pod template (a new one replaces the pods). */
  restartedAt?: string;
  closed: boolean;
}

/**
 * A release's Deployment that a previous control-plane process left, found by `recover`: deployed
 * again (adopted) when still wanted, else stopped by name.
 */
interface Found {
  namespace: string;
  /** The Deployment's name, which its Secrets and PodDisruptionBudget derive from. */
  name: string;
  pods: IPod[];
}

export class KubernetesDriver implements ReleaseDriver {
  readonly name = 'kubernetes';
  private readonly releases = new Map<string, Release>();
  /** Pod changes of every release, for the waits below; `instance` events for the contract's users. */
  private readonly events = new EventEmitter<{ instance: [InstanceEvent]; pods: [string] }>();
  private readonly departments = new Set<string>();
  private readonly found = new Map<string, Found>();

  constructor(private readonly opts: KubernetesDriverOptions) {
    this.events.setMaxListeners(0);
  }

  async deploy(spec: ReleaseSpec): Promise<void> {
    const { department } = splitKey(spec.serviceKey);
    const namespace = departmentNamespace(department);
    if (!this.departments.has(department)) {
      for (const o of departmentObjects(department, await this.opts.quota(department), this.opts.router))
        await this.opts.client.apply(o as KubernetesObject);
      this.departments.add(department);
    }
    // A Deployment found after a start is adopted: the same object applied, its pods replayed by the watch.
    this.found.delete(spec.releaseId);
    let release = this.releases.get(spec.releaseId);
    if (!release) {
      release = {
        spec,
        namespace,
        pods: new Map(),
        watch: null,
        refresh: null,
        archiveSha256: undefined,
        watchFailures: 0,
        closed: false,
      };
      this.releases.set(spec.releaseId, release);
      await this.watch(release);
    }
    release.spec = spec;
    if (spec.artifact.kind === 'droplet') release.archiveSha256 = await this.signDroplet(release);
    for (const o of releaseSecrets(spec)) await this.opts.client.apply(o as KubernetesObject);
    for (const o of this.objectsOf(release)) await this.opts.client.apply(o as KubernetesObject);
  }

  private objectsOf(release: Release) {
    const { archiveSha256 } = release;
    return releaseObjects(release.spec, {
      ...this.opts,
      ...(archiveSha256 ? { archiveSha256 } : {}),
      ...(release.restartedAt ? { restartedAt: release.restartedAt } : {}),
    });
  }

  /** Puts a fresh signed URL in the release's Secret, and again before it expires. */
  private async signDroplet(release: Release): Promise<string> {
    const link = await this.opts.droplet(release.spec);
    await this.opts.client.apply(dropletSecret(release.spec, link.url) as KubernetesObject);
    if (release.refresh) clearTimeout(release.refresh);
    // Pods that start later (a scale, a node lost) read the Secret then: it must always be valid.
    release.refresh = setTimeout(
      () => void this.signDroplet(release).catch(() => undefined),
      (link.ttlSec * 1000) / 2,
    );
    release.refresh.unref();
    return link.sha256;
  }

  private async watch(release: Release): Promise<void> {
    const selector = `${LABELS.release}=${release.spec.releaseId}`;
    release.watch = await this.opts.client.watchPods(
      release.namespace,
      selector,
      (phase, pod) => {
        release.watchFailures = 0;
        this.podChanged(release, phase, pod);
      },
      (err) => {
        if (release.closed) return;
        // The API server ends watches after a while: a new one replays what exists (ADDED). A
        // watch that failed is tried again with a growing pause, never in a tight loop.
        const pause = err ? Math.min(30_000, 500 * 2 ** release.watchFailures++) : 0;
        const retry = setTimeout(() => void this.watch(release).catch(() => undefined), pause);
        retry.unref();
      },
    );
  }

  private podChanged(release: Release, phase: WatchPhase, pod: IPod): void {
    const name = pod.metadata?.name;
    if (!name) return;
    const before = release.pods.get(name);
    if (phase === 'DELETED') release.pods.delete(name);
    else release.pods.set(name, pod);
    const now = podInstance(pod);
    const was = before ? podInstance(before) : null;
    if (phase === 'DELETED' || !was || was.state !== now.state || was.restarts !== now.restarts) {
      const reason = podFailure(pod);
      this.events.emit('instance', reason ? { instance: now, reason } : { instance: now });
    }
    this.events.emit('pods', release.spec.releaseId);
  }

  /** Resolves with `check`'s first non-null answer, checked now and on each pod change of the release. */
  private until<T>(
    releaseId: string,
    check: () => T | null,
    timeoutMs: number,
    onTimeout: () => T,
  ): Promise<T> {
    return new Promise((resolve) => {
      const finish = (value: T) => {
        clearTimeout(timer);
        this.events.off('pods', onPods);
        resolve(value);
      };
      const onPods = (id: string) => {
        if (id !== releaseId) return;
        const value = check();
        if (value !== null) finish(value);
      };
      const timer = setTimeout(() => finish(onTimeout()), timeoutMs);
      this.events.on('pods', onPods);
      onPods(releaseId);
    });
  }

  waitReady(releaseId: string, timeoutMs?: number): Promise<ReadyOutcome> {
    const release = this.require(releaseId);
    const limit =
      timeoutMs ?? release.spec.healthCheck.startTimeoutSec * 1000 + (this.opts.readyMarginMs ?? 120_000);
    const live = () => [...release.pods.values()].filter((p) => !p.metadata?.deletionTimestamp);
    return this.until<ReadyOutcome>(
      releaseId,
      () => {
        const pods = live();
        for (const pod of pods) {
          const reason = podFailure(pod);
          if (reason) return { ready: false, reason, instanceId: pod.metadata?.name ?? '' };
        }
        const ready = pods.map(podInstance).filter((i) => i.state === 'ready');
        return pods.length === release.spec.instances && ready.length === pods.length
          ? { ready: true, instances: ready }
          : null;
      },
      limit,
      () => {
        const pods = live();
        const ready = pods.map(podInstance).filter((i) => i.state === 'ready').length;
        const waiting = pods.filter((p) => podInstance(p).state !== 'ready').map(podProgress);
        return {
          ready: false,
          reason: `not ready within ${Math.round(limit / 1000)} s: ${ready} of ${release.spec.instances} instance(s) ready${waiting.length ? `; ${waiting.join('; ')}` : ''}`,
        };
      },
    );
  }

  async scale(releaseId: string, instances: number): Promise<void> {
    const release = this.require(releaseId);
    release.spec = { ...release.spec, instances };
    const [deployment] = this.objectsOf(release);
    await this.opts.client.apply(deployment as KubernetesObject);
    // Down: resolves once the surplus pods are gone (the router has already let them go).
    const settled = await this.until(
      releaseId,
      () => (release.pods.size <= instances ? true : null),
      this.stopLimit(30),
      () => false,
    );
    if (!settled) throw new Error(`scale of ${deploymentName(release.spec)} did not settle`);
  }

  private stopLimit(graceSec: number): number {
    return graceSec * 1000 + (this.opts.stopMarginMs ?? 60_000);
  }

  async stop(releaseId: string, graceMs = 10_000): Promise<void> {
    const found = this.found.get(releaseId);
    if (found) return this.stopFound(releaseId, found);
    const release = this.releases.get(releaseId);
    if (!release) return;
    const { spec } = release;
    const objects = [
      ...this.objectsOf(release),
      ...releaseSecrets(spec),
      ...(spec.artifact.kind === 'droplet' ? [dropletSecret(spec, '')] : []),
    ];
    for (const o of objects) await this.opts.client.delete(o as KubernetesObject);
    const ok = await this.until(
      releaseId,
      () => (release.pods.size === 0 ? true : null),
      this.stopLimit(Math.ceil(graceMs / 1000)),
      () => false,
    );
    this.forget(release);
    if (!ok) throw new Error(`pods of ${deploymentName(spec)} are still there after its stop`);
  }

  private forget(release: Release): void {
    release.closed = true;
    release.watch?.abort();
    if (release.refresh) clearTimeout(release.refresh);
    this.releases.delete(release.spec.releaseId);
  }

  instances(releaseId: string): ReleaseInstance[] {
    return [...(this.releases.get(releaseId)?.pods.values() ?? [])].map(podInstance);
  }

  list(): ReleaseInstance[] {
    return [
      ...[...this.releases.keys()].flatMap((id) => this.instances(id)),
      ...[...this.found.values()].flatMap((f) => f.pods.map(podInstance)),
    ];
  }

  /**
   * Lists the Deployments GovHost made (every department's namespace) and their pods, as the
   * previous process left them. A Deployment runs on without the control plane: the `deploy` of a
   * release still wanted applies the same object and adopts its pods (the watch replays them);
   * the others are found here so that the caller stops them. A found Deployment with no pod
   * left lists no instance, so the caller does not see it: it stays until deleted by hand.
   */
  async recover(): Promise<ReleaseInstance[]> {
    const managed = `${LABELS.managedBy}=${FIELD_MANAGER}`;
    const [deployments, pods] = await Promise.all([
      this.opts.client.listDeployments(managed),
      this.opts.client.listPods(managed),
    ]);
    for (const d of deployments) {
      const releaseId = d.metadata?.labels?.[LABELS.release];
      const { name, namespace } = d.metadata ?? {};
      if (!releaseId || !name || !namespace || this.releases.has(releaseId)) continue;
      // A staging Job's pods carry the release label too: they are not instances.
      const own = pods.filter(
        (p) => p.metadata?.labels?.[LABELS.release] === releaseId && !p.metadata?.labels?.[STAGING_LABEL],
      );
      this.found.set(releaseId, { namespace, name, pods: own });
    }
    return [...this.found.values()].flatMap((f) => f.pods.map(podInstance));
  }

  /**
   * Deletes a found release's Deployment, PodDisruptionBudget and Secrets by name (its spec is not
   * known here); the pods go with the Deployment, in the background: no route ever led to them.
   */
  private async stopFound(releaseId: string, found: Found): Promise<void> {
    const { namespace, name } = found;
    const metadata = { name, namespace };
    const secrets = Object.values(secretNamesOf(name));
    const refs = [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata },
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata },
      ...secrets.map((s) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: s, namespace } })),
    ];
    for (const o of refs) await this.opts.client.delete(o);
    this.found.delete(releaseId);
  }

  /**
   * A restart as `kubectl rollout restart` makes it: a new stamp on the pod template, and the
   * Deployment replaces its pods itself (surge first), so there are no old ids to hand back.
   */
  async renew(releaseId: string): Promise<string[]> {
    const release = this.require(releaseId);
    release.restartedAt = new Date().toISOString();
    await this.opts.client.apply(this.objectsOf(release)[0] as KubernetesObject);
    return [];
  }

  /** Lowers the release's count by as many: the ReplicaSet chooses which pods go. */
  async remove(releaseId: string, instanceIds: string[]): Promise<void> {
    const release = this.releases.get(releaseId);
    if (!release || instanceIds.length === 0) return;
    await this.scale(releaseId, Math.max(0, release.spec.instances - instanceIds.length));
  }

  async logs(releaseId: string, opts: { tail?: number; instanceId?: string } = {}): Promise<string[]> {
    const release = this.releases.get(releaseId);
    if (!release) return [];
    const lines: string[] = [];
    const names = opts.instanceId ? [opts.instanceId] : [...release.pods.keys()];
    for (const name of names)
      lines.push(...(await this.opts.client.podLog(release.namespace, name, opts.tail)));
    return opts.tail !== undefined ? lines.slice(-opts.tail) : lines;
  }

  on(event: 'instance', listener: (e: InstanceEvent) => void) {
    return this.events.on(event, listener);
  }

  off(event: 'instance', listener: (e: InstanceEvent) => void) {
    return this.events.off(event, listener);
  }

  async close(): Promise<void> {
    for (const release of [...this.releases.values()]) this.forget(release);
  }

  private require(releaseId: string): Release {
    const release = this.releases.get(releaseId);
    if (!release) throw new Error(`release ${releaseId} is not deployed on this driver`);
    return release;
  }
}
