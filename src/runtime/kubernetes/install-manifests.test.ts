/**
 * The install manifests, validated against the Kubernetes API schemas, and their RBAC held to
 * exactly the calls the driver makes (recorded by FakeKubeApi, a fake of the API, on loopback).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ReleaseSpec } from '../release-driver.ts';
import { FakeKubeApi } from './fake-kube-api.ts';
import {
  DRIVER_RULES,
  grants,
  INSTALL_SECRETS,
  installManifests,
  STAGER_RULES,
} from './install-manifests.ts';
import { KubeClient } from './kube-client.ts';
import { KubernetesDriver } from './kubernetes-driver.ts';
import { validateObject } from './schema-check.ts';

describe('install manifests', () => {
  it('are valid Kubernetes objects: control plane and routers with 2+ replicas, Services, PDBs, RBAC', async () => {
    const objects = installManifests({
      image: 'registry.gov.example/govhost:0.1.0',
      controlPlaneReplicas: 3,
    });
    for (const o of objects) await validateObject(o);
    const byKind = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata?.name);
    assert.deepEqual(byKind('Deployment'), ['govhost-control-plane', 'govhost-router']);
    assert.deepEqual(byKind('Service'), ['govhost-api', 'govhost-router']);
    assert.deepEqual(byKind('ServiceAccount'), ['govhost-control-plane', 'govhost-router']);
    assert.deepEqual(byKind('ClusterRole'), ['govhost-runtime']);
    const [cp, router] = objects.filter((o) => o.kind === 'Deployment') as {
      spec: {
        replicas: number;
        template: { spec: { containers: { env: { name: string; valueFrom?: object }[] }[] } };
      };
    }[];
    assert.equal(cp?.spec.replicas, 3);
    assert.equal(router?.spec.replicas, 2);
    const db = cp?.spec.template.spec.containers[0]?.env.find((e) => e.name === 'DATABASE_URL');
    assert.deepEqual(db?.valueFrom, {
      secretKeyRef: { name: INSTALL_SECRETS.database.name, key: INSTALL_SECRETS.database.key },
    });
    assert.ok(!JSON.stringify(objects).includes('postgres://'), 'no credential in the manifests');
  });

  it("the ClusterRole grants the driver's and the staging Jobs' calls, and nothing else", () => {
    const role = installManifests().find((o) => o.kind === 'ClusterRole') as {
      rules: typeof DRIVER_RULES;
    };
    const want = new Set([...grants(DRIVER_RULES), ...grants(STAGER_RULES)]);
    assert.deepEqual([...grants(role.rules)].sort(), [...want].sort());
    assert.ok(want.has('batch|jobs|patch') && !want.has('|secrets|get'));
  });

  it('refuses fewer than two replicas', () => {
    assert.throws(() => installManifests({ routerReplicas: 1 }), /2 replicas or more/);
  });

  describe('RBAC is exactly what the driver uses (FakeKubeApi, a fake of the API)', () => {
    let fake: FakeKubeApi;
    before(async () => {
      fake = new FakeKubeApi({ ready: () => true, logs: () => ['hello'] });
      await fake.start();
    });
    after(() => fake.stop());

    it('every request of a deploy, wait, logs, scale and stop is granted, and every grant is used', async () => {
      const driver = new KubernetesDriver({
        client: new KubeClient(fake.kubeConfig()),
        stackImages: { node: 'node:20-bookworm-slim' },
        fetchImage: 'busybox:1.36',
        router: { namespace: 'govhost', component: 'router' },
        quota: async () => ({ memoryMb: 1024, instances: 4, cpuPerInstance: 0.5 }),
        droplet: async () => ({ url: 'https://cp/d', sha256: 'c'.repeat(64), ttlSec: 600 }),
        readyMarginMs: 0,
      });
      const spec: ReleaseSpec = {
        serviceId: 'svc',
        serviceKey: 'DOF/pay',
        releaseId: 'rel-rbac',
        version: 1,
        instances: 1,
        memoryMb: 128,
        cpu: 0.5,
        diskMb: 64,
        healthCheck: { type: 'port', endpoint: '/', startTimeoutSec: 5, intervalMs: 1000 },
        env: {},
        secretEnv: { KEY: 'v' },
        artifact: { kind: 'droplet', sha256: 'a'.repeat(64), builder: 'node', command: 'node s.js' },
        tier: 'gold',
      };
      // As after a control-plane start: what a previous process left (here nothing).
      assert.deepEqual(await driver.recover(), []);
      await driver.deploy(spec);
      assert.equal((await driver.waitReady(spec.releaseId, 10_000)).ready, true);
      assert.deepEqual(await driver.logs(spec.releaseId), ['hello']);
      await driver.scale(spec.releaseId, 2);
      await driver.stop(spec.releaseId, 1000);
      await driver.close();

      const used = fake.grantsUsed();
      const granted = grants(DRIVER_RULES);
      assert.deepEqual([...used].sort(), [...granted].sort());
    });
  });
});
