/**
 * The conformance suite against the Kubernetes driver: first against FakeKubeApi, a FAKE of the
 * API endpoints the driver uses (loopback HTTP; it plays controller and kubelet, so readiness,
 * crashes and logs are simulated, not run); then against a real cluster when
 * GOVHOST_TEST_KUBECONFIG names a kubeconfig (skipped otherwise: no cluster runs on our machines).
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { DROPLET_URL_TTL_SEC, signDropletUrl } from '../droplet-url.ts';
import { FakeKubeApi } from '../kubernetes/fake-kube-api.ts';
import { KubeClient, loadKubeConfig } from '../kubernetes/kube-client.ts';
import { KubernetesDriver } from '../kubernetes/kubernetes-driver.ts';
import { departmentNamespace } from '../kubernetes/names.ts';
import { baseSpec, CONFORMANCE_APP_JS, conformanceSuite } from './conformance.ts';

const common = {
  stackImages: { node: 'node:20-bookworm-slim' },
  fetchImage: 'busybox:1.36',
  router: { namespace: 'govhost', component: 'router' },
  quota: async () => ({ memoryMb: 4096, instances: 10, cpuPerInstance: 0.25 }),
};

conformanceSuite(
  'runtime conformance: kubernetes driver against FakeKubeApi (a fake API, simulated pods)',
  async () => {
    const env = (
      pod: { spec?: { containers: { env?: { name: string; value?: string }[] }[] } },
      name: string,
    ) => pod.spec?.containers[0]?.env?.find((e) => e.name === name)?.value;
    const fake = new FakeKubeApi({
      ready: (pod) => env(pod, 'GOVHOST_TEST_SICK') !== '1',
      logs: (pod) => [`conformance app ${env(pod, 'GOVHOST_RELEASE')} listening`],
    });
    await fake.start();
    const key = Buffer.alloc(32, 1);
    const driver = new KubernetesDriver({
      ...common,
      client: new KubeClient(fake.kubeConfig()),
      droplet: async (spec) => ({
        url: signDropletUrl(
          'http://govhost.govhost.svc:8080',
          key,
          (spec.artifact as { sha256: string }).sha256,
        ),
        sha256: 'c'.repeat(64),
        ttlSec: DROPLET_URL_TTL_SEC,
      }),
      // The fake pulls no image: a release that is not ready by its start timeout never will be.
      readyMarginMs: 0,
      stopMarginMs: 5_000,
    });
    return {
      driver,
      spec: (opts) =>
        baseSpec(opts, { kind: 'droplet', sha256: 'a'.repeat(64), builder: 'node', command: 'node app.js' }),
      get: null,
      crash: async (instance) => fake.crash(instance.instanceId),
      readyMs: 10_000,
      cleanup: async () => {
        await driver.close();
        await fake.stop();
      },
    };
  },
);

const kubeconfig = process.env.GOVHOST_TEST_KUBECONFIG;
conformanceSuite(
  'runtime conformance: kubernetes driver against a real cluster (GOVHOST_TEST_KUBECONFIG)',
  async () => {
    const kc = loadKubeConfig(kubeconfig!);
    const core = kc.makeApiClient(CoreV1Api);
    const driver = new KubernetesDriver({
      ...common,
      client: new KubeClient(kc),
      droplet: async () => {
        throw new Error('the real-cluster suite runs an image, not a droplet');
      },
    });
    // Through the API server's pod proxy: the test runs outside the cluster network.
    const viaProxy = async (instance: { instanceId: string }, path: string) => {
      try {
        const body = await core.connectGetNamespacedPodProxyWithPath({
          name: `${instance.instanceId}:8080`,
          namespace: departmentNamespace('CONF'),
          path: path.replace(/^\//, ''),
        });
        return { status: 200, body: String(body) };
      } catch {
        return { status: 0, body: '' };
      }
    };
    return {
      driver,
      spec: (opts) => {
        const spec = baseSpec(opts, {
          kind: 'image',
          image: process.env.GOVHOST_TEST_K8S_NODE_IMAGE ?? 'node:20-bookworm-slim',
          command: 'node -e "$GOVHOST_TEST_APP"',
        });
        spec.env.GOVHOST_TEST_APP = CONFORMANCE_APP_JS;
        return spec;
      },
      get: viaProxy,
      crash: async (instance) => {
        await viaProxy(instance, '/crash');
      },
      readyMs: 180_000,
      cleanup: () => driver.close(),
    };
  },
  kubeconfig ? undefined : 'GOVHOST_TEST_KUBECONFIG is not set: no Kubernetes cluster to run against',
);
