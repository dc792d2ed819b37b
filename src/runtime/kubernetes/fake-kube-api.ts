/**
 * FakeKubeApi: a FAKE of the few Kubernetes API endpoints the driver uses, a real HTTP server on
 * loopback, for tests (no cluster can run here). It serves discovery, server-side apply (each
 * object checked against the API schemas, the field manager required), delete, pod watches and
 * pod logs; and it plays a very small controller and kubelet: a Deployment gets its replicas as
 * pods, whose readiness, crashes and log lines come from the `kubelet` a test gives it. It is
 * not Kubernetes: no scheduling, probes, resource accounting or admission beyond the schemas.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { validateObject } from './schema-check.ts';

/** What the fake's kubelet does with a new pod: become ready or not, and what it logs. */
export interface FakeKubelet {
  ready(pod: IPod): boolean;
  logs(pod: IPod): string[];
  /** True: the pod's init container (the droplet fetch) exits 1, as on a sha256 mismatch. */
  initFails?(pod: IPod): boolean;
  /** An exit code: the pod's app exits with it after writing its log lines (an app that cannot start). */
  exits?(pod: IPod): number | null;
}

interface Stored {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

const RESOURCES: Record<string, { kind: string; plural: string; namespaced: boolean }[]> = {
  v1: [
    { kind: 'Namespace', plural: 'namespaces', namespaced: false },
    { kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true },
    { kind: 'LimitRange', plural: 'limitranges', namespaced: true },
    { kind: 'Secret', plural: 'secrets', namespaced: true },
    { kind: 'Pod', plural: 'pods', namespaced: true },
  ],
  'apps/v1': [{ kind: 'Deployment', plural: 'deployments', namespaced: true }],
  'policy/v1': [{ kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true }],
  'networking.k8s.io/v1': [{ kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true }],
};

/** One request the fake answered, for tests that check how the driver talks to the API. */
export interface FakeRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  fieldManager: string | null;
}

export class FakeKubeApi {
  readonly requests: FakeRequest[] = [];
  /** Objects by `apiVersion|kind|namespace|name`. */
  readonly objects = new Map<string, Stored>();
  private readonly logs = new Map<string, string[]>();
  private readonly watchers = new Set<{
    ns: string;
    selector: [string, string] | null;
    res: ServerResponse;
  }>();
  private server: Server | null = null;
  private nextIp = 2;
  private readonly token = randomBytes(12).toString('hex');

  constructor(private readonly kubelet: FakeKubelet) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => this.send(res, 500, { message: err.message }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  /** A kubeconfig that points at the fake, with its bearer token. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    const server = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server, skipTLSVerify: true }],
      users: [{ name: 'govhost', token: this.token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'govhost' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Ends every open watch, as an API server does after its watch timeout. */
  endWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /** Open watches. */
  watchCount(): number {
    return this.watchers.size;
  }

  pods(): IPod[] {
    return [...this.objects.values()].filter((o) => o.kind === 'Pod') as IPod[];
  }

  /** The pod's app exits (code 3) and the fake kubelet starts it again, ready once more. */
  crash(podName: string): void {
    const pod = this.pods().find((p) => p.metadata?.name === podName);
    const app = pod?.status?.containerStatuses?.[0];
    if (!pod || !app) throw new Error(`FakeKubeApi: no pod ${podName}`);
    const terminated = { exitCode: 3, reason: 'Error' };
    Object.assign(app, {
      ready: false,
      restartCount: (app.restartCount ?? 0) + 1,
      lastState: { terminated },
    });
    app.state = { waiting: { reason: 'ContainerCreating' } };
    this.changed('MODIFIED', pod);
    setImmediate(() => this.run(pod));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      contentType: req.headers['content-type'],
      fieldManager: url.searchParams.get('fieldManager'),
    });
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return this.send(res, 401, { message: 'Unauthorized' });
    const m = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))(?:\/(.*))?$/.exec(url.pathname);
    if (!m) return this.send(res, 404, { message: 'not found' });
    const apiVersion = (m[1] ?? m[2])!;
    const rest = m[3] ? m[3].split('/') : [];
    if (rest.length === 0 && req.method === 'GET') return this.discovery(res, apiVersion);
    const namespaced = rest[0] === 'namespaces' && rest.length >= 3;
    const [ns, plural, name, sub] = namespaced
      ? [rest[1], rest[2], rest[3], rest[4]]
      : [undefined, rest[0], rest[1]];
    const kind = RESOURCES[apiVersion]?.find((r) => r.plural === plural)?.kind;
    if (!kind) return this.send(res, 404, { message: `no ${plural} in ${apiVersion}` });
    if (req.method === 'GET' && kind === 'Pod' && sub === 'log') return this.podLog(res, ns!, name!, url);
    if (req.method === 'GET' && kind === 'Pod' && !name && url.searchParams.get('watch') === 'true')
      return this.watch(res, ns!, url.searchParams.get('labelSelector'));
    if (req.method === 'PATCH' && name) return this.apply(req, res, apiVersion, kind, ns, name, url);
    if (req.method === 'DELETE' && name) return this.delete(res, apiVersion, kind, ns, name);
    return this.send(res, 405, { message: `FakeKubeApi does not serve ${req.method} ${url.pathname}` });
  }

  private discovery(res: ServerResponse, groupVersion: string): void {
    const resources = (RESOURCES[groupVersion] ?? []).map((r) => ({
      name: r.plural,
      singularName: r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: ['get', 'list', 'watch', 'patch', 'delete'],
    }));
    this.send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources });
  }

  private async apply(
    req: IncomingMessage,
    res: ServerResponse,
    apiVersion: string,
    kind: string,
    ns: string | undefined,
    name: string,
    url: URL,
  ): Promise<void> {
    if (req.headers['content-type'] !== 'application/apply-patch+yaml')
      return this.send(res, 415, { message: 'FakeKubeApi takes server-side apply only' });
    if (!url.searchParams.get('fieldManager'))
      return this.send(res, 422, { message: 'fieldManager is required for apply patch' });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const obj = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Stored;
    if (obj.apiVersion !== apiVersion || obj.kind !== kind || obj.metadata?.name !== name)
      return this.send(res, 400, { message: 'the object does not match its path' });
    try {
      await validateObject(obj);
    } catch (err) {
      return this.send(res, 422, { message: (err as Error).message });
    }
    if (ns && !this.objects.has(key('v1', 'Namespace', undefined, ns)))
      return this.send(res, 404, { message: `namespaces "${ns}" not found` });
    this.objects.set(key(apiVersion, kind, ns, name), obj);
    if (kind === 'Deployment') this.reconcile(obj);
    this.send(res, 200, obj);
  }

  private delete(
    res: ServerResponse,
    apiVersion: string,
    kind: string,
    ns: string | undefined,
    name: string,
  ) {
    const obj = this.objects.get(key(apiVersion, kind, ns, name));
    if (!obj) return this.send(res, 404, { kind: 'Status', code: 404, message: `${name} not found` });
    this.objects.delete(key(apiVersion, kind, ns, name));
    if (kind === 'Deployment') for (const pod of this.podsOf(obj)) this.removePod(pod);
    this.send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200 });
  }

  /** The fake's Deployment controller: as many pods as replicas, each run by the kubelet. */
  private reconcile(deployment: Stored): void {
    const spec = deployment.spec as {
      replicas: number;
      template: { metadata: { labels: Record<string, string> }; spec: object };
    };
    const pods = this.podsOf(deployment);
    for (const pod of pods.slice(spec.replicas)) this.removePod(pod);
    for (let i = pods.length; i < spec.replicas; i++) {
      const pod: IPod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${deployment.metadata.name}-${randomBytes(3).toString('hex')}`,
          namespace: deployment.metadata.namespace!,
          labels: { ...spec.template.metadata.labels },
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name, uid: 'fake' },
          ],
        },
        spec: structuredClone(spec.template.spec) as IPod['spec'],
        status: { phase: 'Pending', podIP: `10.0.0.${this.nextIp++}` },
      };
      this.objects.set(podKey(pod), pod as Stored);
      this.changed('ADDED', pod);
      setImmediate(() => this.run(pod));
    }
  }

  /** The fake kubelet starts the pod's app: running, then ready if the test's kubelet says so. */
  private run(pod: IPod): void {
    if (!this.objects.has(podKey(pod))) return;
    if (pod.spec?.initContainers?.length && this.kubelet.initFails?.(pod)) {
      const terminated = {
        exitCode: 1,
        reason: 'Error',
        message: 'sha256sum: WARNING: 1 computed checksum did NOT match',
      };
      pod.status = {
        ...pod.status,
        initContainerStatuses: pod.spec.initContainers.map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated },
        })),
      };
      this.changed('MODIFIED', pod);
      return;
    }
    const exitCode = this.kubelet.exits?.(pod) ?? null;
    const ready = exitCode === null && this.kubelet.ready(pod);
    const before = pod.status?.containerStatuses?.[0];
    pod.status = {
      ...pod.status,
      phase: 'Running',
      containerStatuses: [
        {
          name: 'app',
          image: pod.spec?.containers[0]?.image ?? '',
          imageID: '',
          ready,
          started: exitCode === null,
          restartCount: before?.restartCount ?? 0,
          state:
            exitCode === null
              ? { running: { startedAt: new Date().toISOString() } }
              : { terminated: { exitCode, reason: 'Error' } },
          ...(before?.lastState ? { lastState: before.lastState } : {}),
        },
      ],
    };
    const lines = this.logs.get(podKey(pod)) ?? [];
    lines.push(...this.kubelet.logs(pod));
    this.logs.set(podKey(pod), lines);
    this.changed('MODIFIED', pod);
  }

  private podsOf(deployment: Stored): IPod[] {
    const selector = (deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector
      .matchLabels;
    return this.pods().filter(
      (p) =>
        p.metadata?.namespace === deployment.metadata.namespace &&
        Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v),
    );
  }

  private removePod(pod: IPod): void {
    this.objects.delete(podKey(pod));
    this.logs.delete(podKey(pod));
    this.changed('DELETED', pod);
  }

  private watch(res: ServerResponse, ns: string, labelSelector: string | null): void {
    const [k, v] = labelSelector?.split('=') ?? [];
    const watcher = { ns, selector: k && v !== undefined ? ([k, v] as [string, string]) : null, res };
    res.writeHead(200, { 'content-type': 'application/json' });
    // The client's watch resolves on the headers: they go now, not with the first event.
    res.flushHeaders();
    // As the API does for a watch without resourceVersion: what exists first, as ADDED.
    for (const pod of this.pods()) if (matches(watcher, pod)) write(res, 'ADDED', pod);
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
  }

  private changed(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: IPod): void {
    for (const w of this.watchers) if (matches(w, pod)) write(w.res, type, pod);
  }

  private podLog(res: ServerResponse, ns: string, name: string, url: URL) {
    const lines = this.logs.get(key('v1', 'Pod', ns, name));
    if (!lines) return this.send(res, 404, { message: `pods "${name}" not found` });
    const tail = Number(url.searchParams.get('tailLines') ?? lines.length);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(
      lines
        .slice(-tail)
        .map((l) => `${l}\n`)
        .join(''),
    );
  }

  private send(res: ServerResponse, status: number, body: object): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

const key = (apiVersion: string, kind: string, ns: string | undefined, name: string) =>
  `${apiVersion}|${kind}|${ns ?? ''}|${name}`;
const podKey = (pod: IPod) => key('v1', 'Pod', pod.metadata?.namespace, pod.metadata?.name ?? '');

function matches(w: { ns: string; selector: [string, string] | null }, pod: IPod): boolean {
  if (pod.metadata?.namespace !== w.ns) return false;
  return !w.selector || pod.metadata?.labels?.[w.selector[0]] === w.selector[1];
}

function write(res: ServerResponse, type: string, pod: IPod): void {
  // A copy: later changes of the stored pod must not reach an event already sent.
  res.write(`${JSON.stringify({ type, object: pod })}\n`);
}
