/**
 * FakeKubeApi: a FAKE of the few Kubernetes API endpoints the driver uses, a real HTTP server on
 * loopback, for tests (no cluster can run here). It serves discovery, server-side apply (each
 * object checked against the API schemas, the field manager required), delete, pod watches and
 * pod logs; and it plays a very small controller and kubelet: a Deployment gets its replicas as
 * pods, whose readiness, crashes and log lines come from the `kubelet` a test gives it; a Job
 * gets one pod, which the fake kubelet runs, when the test allows it (`jobs`), as a LOCAL
 * PROCESS: the container's command with the container's env (Secret references resolved), each
 * emptyDir a temporary folder (env values naming a mount path are pointed at it), its output the
 * pod's log, its exit the pod's end, `activeDeadlineSeconds` a kill. It is not Kubernetes: no
 * scheduling, images, probes, resource accounting, read-only root or admission beyond the schemas.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { validateObject } from './schema-check.ts';

/** What the fake's kubelet does with a new pod: become ready or not, and what it logs. */
export interface FakeKubelet {
  ready(pod: IPod): boolean;
  logs(pod: IPod): string[];
  /** True: the pod's init container (the droplet fetch) exits 1, as on a sha256 mismatch. */
  initFails?(pod: IPod): boolean;
  /**
   * Run Jobs' pods as local processes, in `cwd` (where the image's working folder would be),
   * with `path` as PATH; absent: a Job's pod stays pending.
   */
  jobs?: { cwd: string; path: string };
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
  'batch/v1': [{ kind: 'Job', plural: 'jobs', namespaced: true }],
  'policy/v1': [{ kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true }],
  'networking.k8s.io/v1': [{ kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true }],
};

/** One request the fake answered, for tests that check how the driver talks to the API. */
export interface FakeRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  fieldManager: string | null;
  /** A GET of a collection with `watch=true` (else a list). */
  watch: boolean;
}

export class FakeKubeApi {
  readonly requests: FakeRequest[] = [];
  /** Objects by `apiVersion|kind|namespace|name`. */
  readonly objects = new Map<string, Stored>();
  private readonly logs = new Map<string, string[]>();
  /** Removals of ended pods' folders, for stop() to wait on. */
  private readonly removals: Promise<unknown>[] = [];
  /** Job pods' processes, log followers and temporary folders, by pod key. */
  private readonly processes = new Map<
    string,
    { child: ChildProcess; exited: Promise<unknown>; dirs: string[]; timer?: NodeJS.Timeout }
  >();
  private readonly followers = new Map<string, Set<ServerResponse>>();
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
    for (const pod of this.pods()) if (this.processes.has(podKey(pod))) this.removePod(pod);
    for (const w of this.watchers) w.res.end();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
    await Promise.all(this.removals);
  }

  /**
   * `group|resource|verb` of every request answered, as RBAC names them (discovery, open to any
   * authenticated account, left out), to hold a ClusterRole to what a client really calls.
   */
  grantsUsed(): Set<string> {
    const used = new Set<string>();
    for (const r of this.requests) {
      const m =
        /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/[^/]+)?\/([a-z]+)(?:\/[^/]+(?:\/([a-z]+))?)?$/.exec(
          r.path,
        );
      if (!m) continue;
      const [, group = '', resource, sub] = m;
      const verb =
        r.method === 'PATCH'
          ? 'patch'
          : r.method === 'DELETE'
            ? 'delete'
            : sub
              ? 'get'
              : r.watch
                ? 'watch'
                : 'list';
      used.add(`${group}|${resource}${sub ? `/${sub}` : ''}|${verb}`);
    }
    return used;
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
      watch: url.searchParams.get('watch') === 'true',
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
    if (req.method === 'GET' && !name && url.searchParams.get('watch') !== 'true')
      return this.list(res, apiVersion, kind, ns, url.searchParams.get('labelSelector'));
    if (req.method === 'PATCH' && name) return this.apply(req, res, apiVersion, kind, ns, name, url);
    if (req.method === 'DELETE' && name) return this.delete(res, apiVersion, kind, ns, name);
    return this.send(res, 405, { message: `FakeKubeApi does not serve ${req.method} ${url.pathname}` });
  }

  /** A collection (of a namespace, or of all), filtered by equality selectors `k=v,k2=v2`. */
  private list(
    res: ServerResponse,
    apiVersion: string,
    kind: string,
    ns: string | undefined,
    labelSelector: string | null,
  ): void {
    const wanted = (labelSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((term) => term.split('=') as [string, string]);
    const items = [...this.objects.values()].filter(
      (o) =>
        o.apiVersion === apiVersion &&
        o.kind === kind &&
        (ns === undefined || o.metadata?.namespace === ns) &&
        wanted.every(([k, v]) => o.metadata?.labels?.[k] === v),
    );
    this.send(res, 200, { apiVersion, kind: `${kind}List`, metadata: { resourceVersion: '1' }, items });
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
    if (kind === 'Job') this.startJob(obj);
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
    if (kind === 'Deployment' || kind === 'Job') for (const pod of this.podsOf(obj)) this.removePod(pod);
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

  /** The fake's Job controller: one pod per Job (backoffLimit 0 is all GovHost uses), run once. */
  private startJob(job: Stored): void {
    if (this.podsOf(job).length > 0) return;
    const spec = job.spec as {
      activeDeadlineSeconds?: number;
      template: { metadata: { labels: Record<string, string> }; spec: NonNullable<IPod['spec']> };
    };
    const pod: IPod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${job.metadata.name}-${randomBytes(3).toString('hex')}`,
        namespace: job.metadata.namespace!,
        labels: { ...spec.template.metadata.labels, 'job-name': job.metadata.name },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: 'fake' }],
      },
      spec: structuredClone(spec.template.spec),
      status: { phase: 'Pending' },
    };
    this.objects.set(podKey(pod), pod as Stored);
    this.changed('ADDED', pod);
    if (this.kubelet.jobs) {
      const jobs = this.kubelet.jobs;
      setImmediate(() => void this.runProcess(pod, jobs, spec.activeDeadlineSeconds));
    }
  }

  /** The container's value of an env entry: a literal, or a key of a stored Secret. */
  private envValue(ns: string, e: NonNullable<NonNullable<IPod['spec']>['containers'][0]['env']>[0]): string {
    if (e.value !== undefined) return e.value;
    const ref = e.valueFrom?.secretKeyRef;
    if (!ref) throw new Error(`FakeKubeApi: env ${e.name} has neither a value nor a Secret reference`);
    const secret = this.objects.get(key('v1', 'Secret', ns, ref.name ?? ''));
    const value = (secret?.stringData as Record<string, string> | undefined)?.[ref.key];
    if (value === undefined) throw new Error(`FakeKubeApi: Secret ${ref.name} has no key ${ref.key}`);
    return value;
  }

  /** The fake kubelet runs a Job's one container as a local process (see the header). */
  private async runProcess(pod: IPod, jobs: { cwd: string; path: string }, deadlineSec?: number) {
    const k = podKey(pod);
    if (!this.objects.has(k)) return;
    const c = pod.spec!.containers[0]!;
    const ns = pod.metadata!.namespace!;
    const dirs = new Map<string, string>();
    for (const m of c.volumeMounts ?? [])
      dirs.set(m.mountPath, await mkdtemp(join(tmpdir(), 'fake-kube-volume-')));
    const env: Record<string, string> = { PATH: jobs.path };
    for (const e of c.env ?? []) {
      const v = this.envValue(ns, e);
      env[e.name] = dirs.get(v) ?? v;
    }
    const [file, ...args] = [...(c.command ?? []), ...(c.args ?? [])];
    // A process group of its own: a container's processes end together, the build it started too.
    const child = spawn(file!, args, {
      cwd: jobs.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = once(child, 'exit');
    const entry: { child: ChildProcess; exited: Promise<unknown>; dirs: string[]; timer?: NodeJS.Timeout } = {
      child,
      exited,
      dirs: [...dirs.values()],
    };
    this.processes.set(k, entry);
    this.logs.set(k, []);
    let deadline = false;
    if (deadlineSec !== undefined)
      entry.timer = setTimeout(() => {
        deadline = true;
        killGroup(child);
      }, deadlineSec * 1000);
    pod.status = {
      phase: 'Running',
      containerStatuses: [
        {
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: new Date().toISOString() } },
        },
      ],
    };
    this.changed('MODIFIED', pod);
    const line = (l: string) => {
      this.logs.get(k)?.push(l);
      for (const f of this.followers.get(k) ?? []) f.write(`${l}\n`);
    };
    const outputs = [child.stdout, child.stderr].map((s) => {
      const rl = createInterface({ input: s });
      rl.on('line', line);
      return once(rl, 'close');
    });
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    await Promise.all(outputs);
    clearTimeout(entry.timer);
    for (const f of this.followers.get(k) ?? []) f.end();
    this.followers.delete(k);
    if (!this.objects.has(k)) return;
    const exitCode = code ?? 137;
    pod.status = {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      ...(deadline
        ? { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }
        : {}),
      containerStatuses: [
        {
          ...pod.status.containerStatuses![0]!,
          ready: false,
          started: false,
          state: {
            terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : signal ? 'Killed' : 'Error' },
          },
        },
      ],
    };
    this.changed('MODIFIED', pod);
  }

  private podsOf(deployment: Stored): IPod[] {
    const spec = deployment.spec as {
      selector?: { matchLabels: Record<string, string> };
      template: { metadata: { labels: Record<string, string> } };
    };
    // A Job selects its pods by the labels its template gives them.
    const selector = spec.selector?.matchLabels ?? spec.template.metadata.labels;
    return this.pods().filter(
      (p) =>
        p.metadata?.namespace === deployment.metadata.namespace &&
        Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v),
    );
  }

  private removePod(pod: IPod): void {
    const proc = this.processes.get(podKey(pod));
    if (proc) {
      clearTimeout(proc.timer);
      killGroup(proc.child);
      // Its folders go once its processes have: removed while a build still wrote in them, they
      // failed with ENOTEMPTY after the test had ended. stop() waits for this, and reports a failure.
      const removed = proc.exited.then(() =>
        Promise.all(proc.dirs.map((d) => rm(d, { recursive: true, force: true }))),
      );
      removed.catch(() => {});
      this.removals.push(removed);
      this.processes.delete(podKey(pod));
    }
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
    const text = lines
      .slice(-tail)
      .map((l) => `${l}\n`)
      .join('');
    // Following a running process's log: what it has said, then each line as it comes, to its end.
    const k = key('v1', 'Pod', ns, name);
    const proc = this.processes.get(k);
    if (
      url.searchParams.get('follow') === 'true' &&
      proc &&
      proc.child.exitCode === null &&
      proc.child.signalCode === null
    ) {
      res.write(text);
      const set = this.followers.get(k) ?? new Set();
      set.add(res);
      this.followers.set(k, set);
      res.on('close', () => set.delete(res));
      return;
    }
    res.end(text);
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

/**
 * SIGKILL to a pod's whole process group (its process leads one: spawned detached), also when its
 * first process has ended: what it started may live on in the group, as a container's would not.
 */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: no process of the group is left.
  }
}
