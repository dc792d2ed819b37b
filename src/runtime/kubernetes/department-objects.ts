/**
 * A department in a cluster: its own Namespace, a ResourceQuota and LimitRange from GovHost's
 * quota, and a default-deny NetworkPolicy that admits only the router's pods, so that no
 * service (of this department or another) reaches an instance except through the router.
 */
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { ILimitRange } from 'kubernetes-models/v1/LimitRange';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { departmentNamespace, FIELD_MANAGER, LABELS } from './names.ts';

export interface DepartmentQuota {
  memoryMb: number;
  instances: number;
  /** CPU (cores) per instance: the platform reserves the same for every instance. */
  cpuPerInstance: number;
}

/** Where the router runs, for the NetworkPolicy's one admitted peer. */
export interface RouterPeer {
  namespace: string;
  /** The router pods' `app.kubernetes.io/component` label. */
  component: string;
}

/** Pods a department's staging Jobs may run beside its instances. */
export const STAGING_PODS = 2;
/** Memory and CPU a staging Job may use, counted in the quota beside the instances. */
export const STAGING_MEMORY_MB = 1024;

/** The objects of one department's namespace, in the order they are applied. */
export function departmentObjects(
  code: string,
  quota: DepartmentQuota,
  router: RouterPeer,
): [INamespace, IResourceQuota, ILimitRange, INetworkPolicy] {
  const namespace = departmentNamespace(code);
  const labels = { [LABELS.managedBy]: FIELD_MANAGER, [LABELS.department]: code.toLowerCase() };
  const cpu = quota.instances * quota.cpuPerInstance + STAGING_PODS;
  const memory = `${quota.memoryMb + STAGING_PODS * STAGING_MEMORY_MB}Mi`;
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: namespace,
        labels: {
          ...labels,
          // Hosted code is untrusted: the restricted Pod Security Standard, enforced.
          'pod-security.kubernetes.io/enforce': 'restricted',
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'govhost-quota', namespace, labels },
      spec: {
        hard: {
          pods: String(quota.instances + STAGING_PODS),
          'requests.memory': memory,
          'limits.memory': memory,
          'requests.cpu': String(cpu),
          'limits.cpu': String(cpu),
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'govhost-limits', namespace, labels },
      spec: {
        // A container that names no resources still counts against the quota.
        limits: [
          {
            type: 'Container',
            default: { memory: '256Mi', cpu: String(quota.cpuPerInstance) },
            defaultRequest: { memory: '256Mi', cpu: String(quota.cpuPerInstance) },
            max: { memory: `${Math.max(quota.memoryMb, STAGING_MEMORY_MB)}Mi` },
          },
        ],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'govhost-only-router', namespace, labels },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': router.namespace } },
                podSelector: { matchLabels: { [LABELS.component]: router.component } },
              },
            ],
          },
        ],
      },
    },
  ];
}
