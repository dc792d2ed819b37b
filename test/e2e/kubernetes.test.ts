// test-seconds: 36
// A real `govhost server` process with GOVHOST_RUNTIME=kubernetes, driving FakeKubeApi: a FAKE
// of the Kubernetes API endpoints the driver uses (a real HTTP server on loopback in this test
// process), whose small controller makes a Deployment's replicas into pods and whose kubelet
// (below) decides their readiness, exits and log lines. No cluster runs here: what this shows is
// the orchestrator on the release-level contract end to end, not Kubernetes itself.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { stringify } from 'yaml';
import { FakeKubeApi } from '../../src/runtime/kubernetes/fake-kube-api.ts';
import { KubeClient } from '../../src/runtime/kubernetes/kube-client.ts';
import { freePort } from '../../src/test-support/free-port.ts';
import { stopLeftServices } from '../../src/test-support/left-services.ts';
import {
  cleanEnv,
  type GovhostProcess,
  runCli,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import { until } from '../../src/test-support/until.ts';
import { type Api, apiClient, createService, deployDir, waitDeployment } from './runtime-helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE_HELLO = fileURLToPath(new URL('../../examples/apps/node-hello/', import.meta.url));
const DEPT = 'KUB';
const SVC = `${DEPT}/forms`;
const NS = 'govhost-kub';
const HOST = 'forms.kub.localhost';

const envOf = (pod: IPod) =>
  Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? '']));

/**
 * The fake's kubelet: pods are ready and log a line, unless their release sets GOVHOST_FAKE_EXIT;
 * staging Jobs' pods run their command (`govhost stage-job`) as local processes from the repo.
 */
const fake = new FakeKubeApi({
  ready: () => true,
  jobs: { cwd: ROOT, path: process.env.PATH ?? '/usr/bin:/bin' },
  exits: (pod) => (envOf(pod).GOVHOST_FAKE_EXIT ? 1 : null),
  logs: (pod) =>
    envOf(pod).GOVHOST_FAKE_EXIT
      ? ["Error: Cannot find module 'express'", 'Require stack: /app/server.js']
      : [`fake pod ${pod.metadata?.name} listening on 8080`],
});

const work = mkdtempSync(join(tmpdir(), 'govhost-k8s-e2e-'));
let server: GovhostProcess;
let url: string;
let token: string;
let api: Api;
let serverEnv: NodeJS.ProcessEnv;

const deployment = (version: number) =>
  fake.objects.get(`apps/v1|Deployment|${NS}|forms-v${version}`) as IDeployment | undefined;
const podsOf = (version: number) =>
  fake
    .pods()
    .filter(
      (p) =>
        p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'govhost' &&
        p.metadata?.name?.startsWith(`forms-v${version}-`),
    );

type Route = { hostname: string; backends: { id: string; url: string }[] } | null;

/**
 * The service's route (null: none) in the table the control plane publishes for routers, once
 * `test` passes (a bounded poll: the table is published just after each change).
 */
async function routeWhen(test: (r: Route) => boolean, what: string): Promise<Route> {
  let last: Route = null;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
    const res = await api('GET', '/runtime/routes');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    last = (res.json.routes as NonNullable<Route>[]).find((r) => r.hostname === HOST) ?? null;
    if (test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the route never ${what}; last: ${JSON.stringify(last)}`);
}

/** Waits until the route's backends are exactly these pods' endpoints. */
const routedTo = (pods: IPod[], what: string) =>
  routeWhen((r) => JSON.stringify(sorted(r?.backends ?? [])) === JSON.stringify(endpointsOf(pods)), what);

/** The backends a route should have: the ready pods' endpoints, by pod name. */
const endpointsOf = (pods: IPod[]) =>
  pods
    .map((p) => ({ id: p.metadata?.name, url: `http://${p.status?.podIP}:8080` }))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
const sorted = (backends: { id: string; url: string }[]) =>
  [...backends].sort((a, b) => a.id.localeCompare(b.id));

/**
 * A copy of the Node example with its own VERSION, so two releases differ; with `build`, a build
 * script, so that staging runs a program of the app's (on Kubernetes: in a Job).
 */
function nodeApp(version: string, opts: { build?: boolean } = {}) {
  const dir = mkdtempSync(join(work, 'app-'));
  cpSync(NODE_HELLO, dir, { recursive: true });
  writeFileSync(join(dir, 'VERSION'), version);
  if (opts.build) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: object };
    pkg.scripts = { ...pkg.scripts, build: 'node -e "console.log(\'built in a job\')"' };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  }
  return dir;
}

describe('govhost server with GOVHOST_RUNTIME=kubernetes against FakeKubeApi (a fake of the API)', () => {
  before(async () => {
    await fake.start();
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, stringify(JSON.parse(fake.kubeConfig().exportConfig())));
    // Known before the start: staging Jobs (run here as local processes) reach the control plane there.
    const port = await freePort();
    serverEnv = cleanEnv({
      GOVHOST_DATA_DIR: join(work, 'data'),
      GOVHOST_PORT: String(port),
      GOVHOST_ROUTER_PORT: '0',
      GOVHOST_ROUTER_ADMIN_PORT: '0',
      GOVHOST_LOG_LEVEL: 'info',
      GOVHOST_RUNTIME: 'kubernetes',
      GOVHOST_KUBECONFIG: kubeconfig,
      // Where staging Jobs fetch bundles and upload droplets (the fake's app pods fetch nothing).
      GOVHOST_K8S_CONTROL_PLANE_URL: `http://127.0.0.1:${port}`,
    });
    const s = await startServer(serverEnv);
    server = s.proc;
    url = s.url;
    token = s.token as string;
    api = apiClient(url, token);
    assert.equal(
      (await api('POST', '/departments', { code: DEPT, nameEn: 'Kube', nameZh: '庫' })).status,
      201,
    );
    await createService(api, DEPT, 'forms');
  });
  after(async () => {
    if (server) await stopProcess(server);
    // On Kubernetes the control plane's stop leaves its router running too: stop it.
    await stopLeftServices(join(work, 'data'));
    await fake.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('starts on Kubernetes, saying what it leaves out on this host', () => {
    assert.match(server.out(), /runtime: kubernetes/);
    assert.doesNotMatch(server.out(), /network isolation:|service users:/);
    assert.match(server.out(), /capacity admission still counts this host as the one farm/);
  });

  it('deploys a release as a Deployment with its droplet Secret; the routes list the ready pods', async () => {
    const { deployment: d } = await deployDir(url, api, token, SVC, nodeApp('v1', { build: true }));
    assert.equal(d.state, 'succeeded', d.message);
    assert.equal(deployment(1)?.spec?.replicas, 1);
    const secret = fake.objects.get(`v1|Secret|${NS}|forms-v1-droplet`);
    assert.match(
      String((secret?.stringData as { url?: string } | undefined)?.url),
      /\/api\/v1\/droplets\/[0-9a-f]{64}\/archive\?/,
    );
    assert.ok(fake.objects.get(`v1|Namespace||${NS}`), 'the department has its namespace');
    // Staged by a Job in the department's namespace (applied, then deleted once it ended).
    const jobs = fake.requests.filter((r) => r.path.startsWith(`/apis/batch/v1/namespaces/${NS}/jobs/`));
    assert.ok(
      jobs.some((r) => r.method === 'PATCH') && jobs.some((r) => r.method === 'DELETE'),
      JSON.stringify(jobs),
    );
    assert.equal(podsOf(1).length, 1);
    await routedTo(podsOf(1), 'listed the v1 pod');
  });

  it('rolls v2 out: routes switch to its pods, then v1’s Deployment is deleted', async () => {
    const { deployment: d } = await deployDir(url, api, token, SVC, nodeApp('v2'));
    assert.equal(d.state, 'succeeded', d.message);
    assert.equal(deployment(1), undefined, 'v1 deleted');
    assert.equal(podsOf(1).length, 0);
    await routedTo(podsOf(2), 'switched to the v2 pod');
  });

  it('scales to 3: the Deployment has 3 replicas and the route 3 pod endpoints', async () => {
    const up = await api('POST', `/services/${SVC}/scale`, { instances: 3 });
    assert.equal(up.status, 202, JSON.stringify(up.json));
    assert.equal((await waitDeployment(api, SVC, up.json.id)).state, 'succeeded');
    assert.equal(deployment(2)?.spec?.replicas, 3);
    assert.equal(podsOf(2).length, 3);
    await routedTo(podsOf(2), 'listed the three v2 pods');
    const status = (await api('GET', `/services/${SVC}/status`)).json;
    assert.equal(status.instances.filter((i: { state: string }) => i.state === 'healthy').length, 3);
  });

  it('keeps v2 serving when a release’s pods fail, with the reason and the app’s decisive line', async () => {
    const v2 = podsOf(2);
    const change = await api('PATCH', `/services/${SVC}/env`, { set: { GOVHOST_FAKE_EXIT: '1' } });
    assert.equal(change.status, 200, JSON.stringify(change.json));
    const d = await waitDeployment(api, SVC, change.json.deployment.id);
    assert.equal(d.state, 'failed');
    assert.match(d.message, /^v3 did not become healthy: forms-v3-\w+: exited with code 1/);
    assert.match(d.message, /Decisive lines: Error: Cannot find module 'express'/);
    assert.match(d.message, /The previous release is still serving\.$/);
    assert.equal(deployment(3), undefined, 'the failed release’s Deployment is deleted');
    // The table published after the failure still names exactly the v2 pods.
    assert.deepEqual(podsOf(2), v2);
    await routedTo(v2, 'kept the v2 pods');
  });

  it('suspends (Deployment deleted, no route) and resumes (3 pods, routed again)', async () => {
    assert.equal((await api('PATCH', `/services/${SVC}`, { lifecycle: 'suspended' })).status, 200);
    assert.equal(deployment(2), undefined);
    await routeWhen((r) => r === null, 'went away');
    assert.equal((await api('GET', `/services/${SVC}/status`)).json.instances.length, 0);
    assert.equal((await api('PATCH', `/services/${SVC}`, { lifecycle: 'active' })).status, 200);
    assert.equal(deployment(2)?.spec?.replicas, 3);
    assert.equal(podsOf(2).length, 3);
    await routedTo(podsOf(2), 'came back with three pods');
  });

  it('`govhost logs` shows the pods’ log lines', async () => {
    const res = await runCli(url, token, ['logs', SVC, '--tail', '10']);
    assert.equal(res.code, 0, res.stderr);
    for (const pod of podsOf(2))
      assert.match(
        res.stdout,
        new RegExp(`\\[${pod.metadata?.name}\\] fake pod ${pod.metadata?.name} listening on 8080`),
      );
  });

  it('a restarted control plane adopts the running pods and deletes a Deployment no one wants', async () => {
    const names = (pods: IPod[]) => pods.map((p) => p.metadata?.name).sort();
    const running = names(podsOf(2));
    // A release's Deployment that a previous process left behind and that no service wants now.
    const orphan = structuredClone(deployment(2)) as IDeployment & { spec: NonNullable<IDeployment['spec']> };
    const labels = { ...orphan.metadata?.labels, 'govhost.io/release': 'rel-orphan' };
    orphan.metadata = { name: 'forms-v9', namespace: NS, labels };
    orphan.spec.replicas = 1;
    orphan.spec.selector = { matchLabels: { 'govhost.io/release': 'rel-orphan' } };
    orphan.spec.template.metadata = { ...orphan.spec.template.metadata, labels };
    await new KubeClient(fake.kubeConfig()).apply(orphan as KubernetesObject);
    await until('the orphan pod runs', () => podsOf(9).length === 1);
    const mark = fake.requests.length;
    await stopProcess(server);
    // The control plane's stop leaves the hosted services running (and their Secrets in place).
    assert.deepEqual(
      fake.requests.slice(mark).filter((r) => r.method !== 'GET'),
      [],
      'no change to the cluster on stop',
    );
    server = (await startServer(serverEnv)).proc;
    await until('the orphan Deployment is deleted', () => deployment(9) === undefined, 30_000);
    assert.deepEqual(names(podsOf(2)), running, 'the v2 pods adopted, none started again');
    assert.equal(deployment(2)?.spec?.replicas, 3);
    await routedTo(podsOf(2), 'routed to the same pods after the restart');
  });
});
