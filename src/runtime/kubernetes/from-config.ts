/**
 * The Kubernetes driver as the platform's configuration describes it: the cluster's credentials
 * (GOVHOST_KUBECONFIG, else in-cluster), the images, and droplet URLs signed for the control
 * plane's address as pods reach it. The composition root gives it the departments' quotas.
 */
import { join } from 'node:path';
import type { BlobStore } from '../../blobs/blob-store.ts';
import { buildPaths } from '../../build/build.logic.ts';
import { dropletArchive } from '../../build/droplet-archive.ts';
import { stagingUrlKey } from '../../build/staging-urls.ts';
import { INSTANCE_CPU, quotaOf } from '../../capacity/admission.ts';
import type { Config } from '../../platform/config.ts';
import type { Db } from '../../platform/database.ts';
import { loadKey } from '../../platform/secrets.ts';
import { DROPLET_URL_TTL_SEC, dropletUrlKey, signDropletUrl } from '../droplet-url.ts';
import type { DepartmentQuota } from './department-objects.ts';
import { ROUTER_COMPONENT } from './install-manifests.ts';
import { KubernetesStager } from './job-stager.ts';
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

/**
 * The staging Jobs' stager as the configuration describes it (decision 027): the same cluster
 * credentials, GovHost's own image, URLs signed for the control plane's address as pods reach it.
 */
export function kubernetesStagerFromConfig(
  config: Config,
  db: Db,
  droplets: BlobStore,
  opts: { routerNamespace?: string } = {},
): KubernetesStager {
  const secret = loadKey(join(config.dataDir, 'secret.key'), config.secretKey, 'GOVHOST_SECRET_KEY');
  return new KubernetesStager({
    client: new KubeClient(loadKubeConfig(config.kubeconfig)),
    db,
    droplets,
    image: config.k8sStagerImage,
    controlPlaneUrl: config.k8sControlPlaneUrl,
    urlKey: stagingUrlKey(secret),
    router: { namespace: opts.routerNamespace ?? 'govhost', component: ROUTER_COMPONENT },
    async quota(departmentId) {
      const q = await quotaOf(db, departmentId);
      return { memoryMb: q.memoryMb, instances: q.instances, cpuPerInstance: INSTANCE_CPU };
    },
  });
}

/** The build's `stager` for the configured runtime: staging Jobs on Kubernetes, else none (local). */
export const stagerFromConfig = (
  config: Config,
  db: Db,
  droplets: BlobStore,
): { stager?: KubernetesStager } =>
  config.runtime === 'kubernetes' ? { stager: kubernetesStagerFromConfig(config, db, droplets) } : {};
