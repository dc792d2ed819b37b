/**
 * The Kubernetes driver as the platform's configuration describes it: the cluster's credentials
 * (GOVHOST_KUBECONFIG, else in-cluster), the images, and droplet URLs signed for the control
 * plane's address as pods reach it. The composition root gives it the departments' quotas.
 */
import { join } from 'node:path';
import { buildPaths } from '../../build/build.logic.ts';
import { dropletArchive } from '../../build/droplet-archive.ts';
import type { Config } from '../../platform/config.ts';
import { loadKey } from '../../platform/secrets.ts';
import { DROPLET_URL_TTL_SEC, dropletUrlKey, signDropletUrl } from '../droplet-url.ts';
import type { DepartmentQuota } from './department-objects.ts';
import { ROUTER_COMPONENT } from './install-manifests.ts';
import { KubeClient, loadKubeConfig } from './kube-client.ts';
import { KubernetesDriver } from './kubernetes-driver.ts';

export function kubernetesDriverFromConfig(
  config: Config,
  quota: (departmentCode: string) => Promise<DepartmentQuota>,
  opts: { routerNamespace?: string } = {},
): KubernetesDriver {
  const key = dropletUrlKey(
    loadKey(join(config.dataDir, 'secret.key'), config.secretKey, 'GOVHOST_SECRET_KEY'),
  );
  const { dropletsDir } = buildPaths(config.dataDir);
  return new KubernetesDriver({
    client: new KubeClient(loadKubeConfig(config.kubeconfig)),
    stackImages: config.k8sStackImages,
    fetchImage: config.k8sFetchImage,
    router: { namespace: opts.routerNamespace ?? 'govhost', component: ROUTER_COMPONENT },
    quota,
    async droplet(spec) {
      if (spec.artifact.kind !== 'droplet') throw new Error('only a droplet release has a droplet URL');
      const archive = await dropletArchive(dropletsDir, spec.artifact.sha256);
      if (!archive) throw new Error(`droplet ${spec.artifact.sha256.slice(0, 12)} is not in the store`);
      return {
        url: signDropletUrl(config.k8sControlPlaneUrl, key, spec.artifact.sha256, DROPLET_URL_TTL_SEC),
        sha256: archive.sha256,
        ttlSec: DROPLET_URL_TTL_SEC,
      };
    },
  });
}
