/**
 * How the Kubernetes driver talks to the API, checked against FakeKubeApi (a FAKE of the API
 * endpoints it uses, on loopback; every object it is sent is validated against the API schemas).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nextEvent, type ReleaseSpec } from '../release-driver.ts';
import { FakeKubeApi } from './fake-kube-api.ts';
import { KubeClient } from './kube-client.ts';
import { type DropletLink, KubernetesDriver } from './kubernetes-driver.ts';
import { FIELD_MANAGER } from './names.ts';

const spec = (over: Partial<ReleaseSpec> = {}): ReleaseSpec => ({
  serviceId: 'svc-1',
  serviceKey: 'DOH/forms',
  releaseId: `rel-${Math.random().toString(16).slice(2, 10)}`,
  version: 1,
  instances: 2,
  memoryMb: 128,
  cpu: 0.5,
  diskMb: 64,
  healthCheck: { type: 'http', endpoint: '/healthz', startTimeoutSec: 2, intervalMs: 1000 },
  env: {},
  secretEnv: { TOKEN: 'x' },
  artifact: { kind: 'droplet', sha256: 'a'.repeat(64), builder: 'node', command: 'node server.js' },
  tier: 'gold',
  ...over,
});

describe('kubernetes driver against FakeKubeApi (a fake of the API)', () => {
  let fake: FakeKubeApi;
  let signed = 0;
  let ttlSec = 600;
  let driver: KubernetesDriver;
  before(async () => {
    fake = new FakeKubeApi({
      ready: () => true,
      logs: () => [],
      initFails: (pod) => pod.metadata?.name?.startsWith('broken-') ?? false,
    });
    await fake.start();
    driver = new KubernetesDriver(opts());
  });
  const opts = () => ({
    client: new KubeClient(fake.kubeConfig()),
    stackImages: { node: 'node:20-bookworm-slim' },
    fetchImage: 'busybox:1.36',
    router: { namespace: 'govhost', component: 'router' },
    quota: async () => ({ memoryMb: 2048, instances: 6, cpuPerInstance: 0.5 }),
    droplet: async (): Promise<DropletLink> => ({
      url: `https://cp/d?n=${++signed}`,
      sha256: 'c'.repeat(64),
      ttlSec,
    }),
    readyMarginMs: 0,
    stopMarginMs: 5_000,
  });
  after(async () => {
    await driver.close();
    await fake.stop();
  });

  it('sends only server-side applies with its field manager; a department’s objects once; a gold release its PDB', async () => {
    const a = spec();
    const b = spec({ version: 2, tier: 'bronze' });
    await driver.deploy(a);
    await driver.deploy(b);
    assert.equal((await driver.waitReady(a.releaseId, 10_000)).ready, true);
    const patches = fake.requests.filter((r) => r.method === 'PATCH');
    assert.ok(patches.length > 0);
    for (const p of patches) {
      assert.equal(p.contentType, 'application/apply-patch+yaml', p.path);
      assert.equal(p.fieldManager, FIELD_MANAGER, p.path);
    }
    assert.equal(patches.filter((p) => p.path === '/api/v1/namespaces/govhost-doh').length, 1);
    const kinds = [...fake.objects.values()].map((o) => `${o.kind}/${o.metadata.name}`).sort();
    for (const k of [
      'Deployment/forms-v1',
      'Deployment/forms-v2',
      'LimitRange/govhost-limits',
      'Namespace/govhost-doh',
      'NetworkPolicy/govhost-only-router',
      'PodDisruptionBudget/forms-v1',
      'ResourceQuota/govhost-quota',
      'Secret/forms-v1-droplet',
      'Secret/forms-v1-env',
    ])
      assert.ok(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
    assert.ok(!kinds.includes('PodDisruptionBudget/forms-v2'), 'no PDB below gold');
    for (const i of driver.instances(a.releaseId)) assert.match(i.endpoint?.host ?? '', /^10\.0\.0\.\d+$/);
    await driver.stop(a.releaseId, 1000);
    await driver.stop(b.releaseId, 1000);
    const left = [...fake.objects.values()].filter((o) => /^forms-v[12]/.test(o.metadata.name));
    assert.deepEqual(left, [], 'a stopped release leaves no Deployment, PDB, Secret or pod');
  });

  it('signs a new droplet URL into its Secret before the last one expires', async () => {
    ttlSec = 0.2;
    const s = spec({ version: 3 });
    const before = signed;
    await driver.deploy(s);
    const deadline = Date.now() + 10_000;
    while (signed < before + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ttlSec = 600;
    assert.ok(signed >= before + 3, `re-signed ${signed - before} time(s)`);
    const secret = fake.objects.get('v1|Secret|govhost-doh|forms-v3-droplet');
    assert.match(String((secret?.stringData as { url?: string } | undefined)?.url), /n=\d+$/);
    await driver.stop(s.releaseId, 1000);
  });

  it('watches again when the API server ends a watch, and still sees what happens to its pods', async () => {
    const s = spec({ serviceKey: 'DOH/rewatch', instances: 1 });
    await driver.deploy(s);
    assert.equal((await driver.waitReady(s.releaseId, 10_000)).ready, true);
    const [pod] = driver.instances(s.releaseId);
    assert.ok(pod);
    fake.endWatches();
    // Bounded: the driver opens a new watch at once after one ended without an error.
    const deadline = Date.now() + 10_000;
    while (fake.watchCount() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(fake.watchCount(), 1, 'one new watch');
    const restarted = nextEvent(
      driver,
      (e) => e.instance.instanceId === pod.instanceId && e.instance.restarts === 1,
      10_000,
      'the restart seen through the new watch',
    );
    fake.crash(pod.instanceId);
    assert.equal((await restarted).instance.restarts, 1);
    await driver.stop(s.releaseId, 1000);
  });

  it('fails a release whose pods cannot fetch or check their droplet, saying so', async () => {
    const s = spec({ serviceKey: 'DOH/broken', version: 1, instances: 1 });
    await driver.deploy(s);
    const outcome = await driver.waitReady(s.releaseId, 10_000);
    assert.equal(outcome.ready, false);
    assert.match(
      outcome.ready ? '' : outcome.reason,
      /fetch-droplet failed \(exit code 1.*did not match its sha256/,
    );
    await driver.stop(s.releaseId, 1000);
  });

  it('after a start, finds the Deployments a previous process left: adopts a wanted one, deletes the others', async () => {
    const kept = spec({ serviceKey: 'DOH/kept', instances: 1 });
    const gone = spec({ serviceKey: 'DOH/gone', instances: 2, tier: 'gold' });
    for (const s of [kept, gone]) {
      await driver.deploy(s);
      assert.equal((await driver.waitReady(s.releaseId, 10_000)).ready, true);
    }
    // The control plane stops (its pods run on); a new process with a new driver starts.
    const next = new KubernetesDriver(opts());
    try {
      const recovered = await next.recover();
      const of = (r: string) => recovered.filter((i) => i.releaseId === r).map((i) => i.instanceId);
      assert.equal(of(kept.releaseId).length, 1);
      assert.equal(of(gone.releaseId).length, 2);
      const ours = recovered.filter((i) => [kept.releaseId, gone.releaseId].includes(i.releaseId));
      assert.ok(ours.every((i) => i.state === 'ready' && i.serviceId === 'svc-1'));
      // Still wanted: deployed again, its pod adopted (not a second one started).
      await next.deploy(kept);
      assert.equal((await next.waitReady(kept.releaseId, 10_000)).ready, true);
      assert.deepEqual(
        next.instances(kept.releaseId).map((i) => i.instanceId),
        of(kept.releaseId),
      );
      // Not wanted: listed, so that the orchestrator stops it by name.
      assert.deepEqual(
        next
          .list()
          .filter((i) => i.releaseId === gone.releaseId)
          .map((i) => i.instanceId)
          .sort(),
        of(gone.releaseId).sort(),
      );
      await next.stop(gone.releaseId);
      const left = [...fake.objects.values()].filter(
        (o) => o.metadata.labels?.['govhost.io/release'] === gone.releaseId && o.kind !== 'Pod',
      );
      assert.deepEqual(
        left.map((o) => `${o.kind}/${o.metadata.name}`),
        [],
      );
      assert.deepEqual(
        next.list().filter((i) => i.releaseId === gone.releaseId),
        [],
      );
    } finally {
      await next.close();
      await driver.stop(kept.releaseId, 1000);
    }
  });
});
