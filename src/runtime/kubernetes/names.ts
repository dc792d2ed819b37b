/** Names and labels of the objects GovHost makes in a cluster, in one place. */
import type { ReleaseSpec } from '../release-driver.ts';

/** The field manager of every server-side apply: GovHost owns the fields it sets, nothing else. */
export const FIELD_MANAGER = 'govhost';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  department: 'govhost.io/department',
  service: 'govhost.io/service',
  release: 'govhost.io/release',
  /** The node label that names a node's farm: gold releases spread over its values. */
  farm: 'govhost.io/farm',
  /** The label of the router's pods, which alone may reach hosted services. */
  component: 'app.kubernetes.io/component',
} as const;

/** `DEPT/slug` → the department code and slug, lower case (Kubernetes names are). */
export function splitKey(serviceKey: string): { department: string; slug: string } {
  const [department = '', slug = ''] = serviceKey.toLowerCase().split('/');
  return { department, slug };
}

/** The namespace of a department's services: `govhost-<code>`. */
export const departmentNamespace = (departmentCode: string) => `govhost-${departmentCode.toLowerCase()}`;

/** A release's Deployment: `<slug>-v<version>` (a release is one Deployment). */
export function deploymentName(spec: Pick<ReleaseSpec, 'serviceKey' | 'version'>): string {
  return `${splitKey(spec.serviceKey).slug}-v${spec.version}`;
}

/** The labels every object of a release carries; the release label selects its pods. */
export function releaseLabels(spec: Pick<ReleaseSpec, 'serviceKey' | 'serviceId' | 'releaseId'>) {
  return {
    [LABELS.managedBy]: FIELD_MANAGER,
    [LABELS.department]: splitKey(spec.serviceKey).department,
    [LABELS.service]: spec.serviceId,
    [LABELS.release]: spec.releaseId,
  };
}
