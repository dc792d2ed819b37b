/**
 * The Kubernetes driver built from the platform's configuration, against FakeKubeApi (a FAKE of
 * the API endpoints it uses, on loopback): a kubeconfig file, the configured images, and a
 * droplet from the store whose signed URL the control plane's droplet route accepts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { stringify } from 'yaml';
import { buildPaths } from '../../build/build.logic.ts';
import { ConfigError, loadConfig } from '../../platform/config.ts';
import { FakeKubeApi } from './fake-kube-api.ts';
import { kubernetesDriverFromConfig } from './from-config.ts';

const SHA = 'f'.repeat(64);

describe('kubernetes driver from the configuration (FakeKubeApi, a fake of the API)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'govhost-k8s-config-'));
  let fake: FakeKubeApi;
  before(async () => {
    fake = new FakeKubeApi({ ready: () => true, logs: () => [] });
    await fake.start();
  });
  after(async () => {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a kubeconfig file, runs the configured stack image and signs URLs for the configured address', async () => {
    const kc = fake.kubeConfig();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, stringify(JSON.parse(kc.exportConfig())));
    const dataDir = join(dir, 'data');
    mkdirSync(join(buildPaths(dataDir).dropletsDir, SHA), { recursive: true });
    writeFileSync(join(buildPaths(dataDir).dropletsDir, SHA, 'server.js'), 'x');
    const config = loadConfig({
      GOVHOST_DATA_DIR: dataDir,
      GOVHOST_KUBECONFIG: kubeconfig,
      GOVHOST_K8S_STACK_IMAGES: 'node=reg.gov.example/stack/node:20',
      GOVHOST_K8S_CONTROL_PLANE_URL: 'https://govhost-api.govhost.svc:8443',
    });
    const driver = kubernetesDriverFromConfig(config, async () => ({
      memoryMb: 512,
      instances: 2,
      cpuPerInstance: 1,
    }));
    await driver.deploy({
      serviceId: 's',
      serviceKey: 'DOH/forms',
      releaseId: 'r-from-config',
      version: 1,
      instances: 1,
      memoryMb: 128,
      cpu: 1,
      diskMb: 64,
      healthCheck: { type: 'port', endpoint: '/', startTimeoutSec: 5, intervalMs: 1000 },
      env: {},
      secretEnv: {},
      artifact: { kind: 'droplet', sha256: SHA, builder: 'node', command: 'node server.js' },
      tier: 'silver',
    });
    assert.equal((await driver.waitReady('r-from-config', 10_000)).ready, true);
    const deployment = fake.objects.get('apps/v1|Deployment|govhost-doh|forms-v1') as IDeployment | undefined;
    assert.equal(deployment?.spec?.template.spec?.containers[0]?.image, 'reg.gov.example/stack/node:20');
    const secret = fake.objects.get('v1|Secret|govhost-doh|forms-v1-droplet');
    const url = String((secret?.stringData as { url?: string } | undefined)?.url);
    assert.match(
      url,
      new RegExp(
        `^https://govhost-api\\.govhost\\.svc:8443/api/v1/droplets/${SHA}/archive\\?expires=\\d+&signature=`,
      ),
    );
    await driver.stop('r-from-config', 1000);
    await driver.close();
  });

  it('names a wrong runtime or stack image list in the error', () => {
    assert.throws(
      () => loadConfig({ GOVHOST_RUNTIME: 'docker' }),
      (e: Error) => e instanceof ConfigError && /GOVHOST_RUNTIME/.test(e.message),
    );
    assert.throws(() => loadConfig({ GOVHOST_K8S_STACK_IMAGES: 'node' }), /GOVHOST_K8S_STACK_IMAGES/);
    assert.equal(loadConfig({}).runtime, 'local');
  });
});
