/**
 * The few Kubernetes API calls the driver and the staging Jobs make, through
 * `@kubernetes/client-node`: server-side apply with GovHost's field manager, delete, a watch of
 * pods by label, a pod's log (read or followed), and a list of GovHost's Deployments and pods
 * after a start. Nothing else of the API is used, which is what the install's RBAC grants.
 */

import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  Log,
  PatchStrategy,
  Watch,
} from '@kubernetes/client-node';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { FIELD_MANAGER } from './names.ts';

export type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Credentials: a kubeconfig file, else the pod's service account (running in the cluster). */
export function loadKubeConfig(kubeconfigPath: string | null): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromCluster();
  return kc;
}

export class KubeClient {
  private readonly objects: KubernetesObjectApi;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly watcher: Watch;
  private readonly log: Log;

  constructor(kc: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.watcher = new Watch(kc);
    this.log = new Log(kc);
  }

  /** Server-side apply: GovHost owns the fields it sends, and takes them back if changed by hand. */
  async apply(obj: KubernetesObject): Promise<void> {
    await this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  /** Deletes the object and (in the background) what it owns; a missing object is not an error. */
  async delete(obj: KubernetesObject): Promise<void> {
    try {
      await this.objects.delete(obj, undefined, undefined, undefined, undefined, 'Background');
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }

  /**
   * Watches the pods of a namespace that match `labelSelector`; `done` is called when the watch
   * ends (the server closes watches after a while: the caller starts another).
   */
  watchPods(
    namespace: string,
    labelSelector: string,
    onEvent: (phase: WatchPhase, pod: IPod) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return this.watcher.watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { labelSelector, allowWatchBookmarks: false },
      (phase, obj) => {
        if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') onEvent(phase, obj as IPod);
      },
      done,
    );
  }

  /** Deployments of every namespace that match `labelSelector`. */
  async listDeployments(labelSelector: string): Promise<IDeployment[]> {
    const list = await this.apps.listDeploymentForAllNamespaces({ labelSelector });
    return list.items as IDeployment[];
  }

  /** Pods of every namespace that match `labelSelector`. */
  async listPods(labelSelector: string): Promise<IPod[]> {
    const list = await this.core.listPodForAllNamespaces({ labelSelector });
    return list.items as IPod[];
  }

  /** The last lines of a pod's container's log (by default its app's). */
  async podLog(namespace: string, name: string, tailLines?: number, container = 'app'): Promise<string[]> {
    const text = await this.core.readNamespacedPodLog({
      name,
      namespace,
      container,
      ...(tailLines !== undefined ? { tailLines } : {}),
    });
    return text.split('\n').filter((l) => l.length > 0);
  }

  /**
   * Follows a container's log: each line as it comes, from the start; resolves when the server
   * ends the stream (the container has ended, or the server cut the stream short: a caller that
   * must see every line reads the whole log afterwards).
   */
  async followPodLog(
    namespace: string,
    name: string,
    container: string,
    onLine: (line: string) => void,
  ): Promise<void> {
    const out = new PassThrough();
    const lines = createInterface({ input: out });
    lines.on('line', onLine);
    const closed = once(lines, 'close');
    await this.log.log(namespace, name, container, out, { follow: true });
    await closed;
  }
}
