/**
 * The objects that install GovHost in a cluster (`govhost kubernetes manifests`): the control
 * plane (2+ replicas on an external PostgreSQL, its URL and the shared keys from Secrets the
 * operator makes), the routers (2+ replicas, the only pods hosted services admit), Services,
 * disruption budgets, and RBAC granting exactly the calls the driver and the staging Jobs'
 * stager make (kube-client.ts).
 */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { IClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { SERVER_NODE_FLAGS } from '../../platform/node-flags.ts';
import { FIELD_MANAGER, LABELS } from './names.ts';

export interface InstallOptions {
  /** Namespace of GovHost's own pods. */
  namespace: string;
  /** Image holding this GovHost checkout with its node_modules (Node 20). */
  image: string;
  controlPlaneReplicas: number;
  routerReplicas: number;
  /** Domain under which services get their host names. */
  domain: string;
}

export const INSTALL_DEFAULTS: InstallOptions = {
  namespace: 'govhost',
  image: 'govhost:0.1.0',
  controlPlaneReplicas: 2,
  routerReplicas: 2,
  domain: 'gov.example',
};

/** The Secrets the operator makes before applying (never printed: they hold credentials). */
export const INSTALL_SECRETS = {
  database: { name: 'govhost-database', key: 'url' },
  keys: {
    name: 'govhost-keys',
    secretKey: 'secret-key',
    auditKey: 'audit-key',
    routerToken: 'router-admin-token',
  },
} as const;

const API_PORT = 8080;
const ROUTER_PORT = 8081;
export const ROUTER_COMPONENT = 'router';
const CONTROL_PLANE = 'control-plane';

/**
 * Exactly what the driver calls (a test checks it against the driver's requests): apply (a PATCH,
 * which also creates) on what it makes, delete on what a release owns, watch of pods and their
 * logs. No read of Secrets, no exec, no proxy, no other kinds. API discovery is open to any
 * authenticated account.
 */
export const DRIVER_RULES: NonNullable<IClusterRole['rules']> = [
  { apiGroups: [''], resources: ['namespaces', 'resourcequotas', 'limitranges'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['patch', 'delete'] },
  // list: after a start, the driver finds the Deployments (and their pods) a previous process left.
  { apiGroups: [''], resources: ['pods'], verbs: ['watch', 'list'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch', 'delete', 'list'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['patch', 'delete'] },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['patch'] },
];

/**
 * Exactly what staging Jobs take (job-stager.ts; a test checks it against its requests): the
 * department's objects, the Job and its request Secret made and deleted, its pod watched and its
 * log read.
 */
export const STAGER_RULES: NonNullable<IClusterRole['rules']> = [
  { apiGroups: [''], resources: ['namespaces', 'resourcequotas', 'limitranges'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['patch', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['watch'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['patch', 'delete'] },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['patch'] },
];

/** `group|resource|verb` of every grant in `rules`. */
export function grants(rules: NonNullable<IClusterRole['rules']>): Set<string> {
  return new Set(
    rules.flatMap((rule) =>
      (rule.apiGroups ?? []).flatMap((g) =>
        (rule.resources ?? []).flatMap((res) => rule.verbs.map((v) => `${g}|${res}|${v}`)),
      ),
    ),
  );
}

/** The runtime's ClusterRole rules: the driver's and the stager's grants, one rule per resource. */
export function runtimeRules(): NonNullable<IClusterRole['rules']> {
  const byResource = new Map<string, Set<string>>();
  for (const g of grants([...DRIVER_RULES, ...STAGER_RULES])) {
    const [group, resource, verb] = g.split('|') as [string, string, string];
    const k = `${group}|${resource}`;
    byResource.set(k, (byResource.get(k) ?? new Set()).add(verb));
  }
  return [...byResource].map(([k, verbs]) => {
    const [group, resource] = k.split('|') as [string, string];
    return { apiGroups: [group], resources: [resource], verbs: [...verbs].sort() };
  });
}

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

function deployment(
  o: InstallOptions,
  component: string,
  replicas: number,
  container: IContainer,
  serviceAccountName: string,
): IDeployment {
  const labels = { 'app.kubernetes.io/name': 'govhost', [LABELS.component]: component };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `govhost-${component}`, namespace: o.namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName,
          automountServiceAccountToken: component === CONTROL_PLANE,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          // Replicas on different nodes: losing one node loses one replica.
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: labels },
            },
          ],
          containers: [{ ...container, securityContext: restricted }],
          volumes: [{ name: 'data', emptyDir: {} }],
        },
      },
    },
  };
}

const pdb = (o: InstallOptions, component: string): IPodDisruptionBudget => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: `govhost-${component}`, namespace: o.namespace },
  spec: { minAvailable: 1, selector: { matchLabels: { [LABELS.component]: component } } },
});

const service = (
  o: InstallOptions,
  component: string,
  port: number,
  type: 'ClusterIP' | 'LoadBalancer',
): IService => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: `govhost-${component === CONTROL_PLANE ? 'api' : component}`, namespace: o.namespace },
  spec: {
    type,
    selector: { [LABELS.component]: component },
    ports: [{ name: 'http', port: component === CONTROL_PLANE ? port : 80, targetPort: port }],
  },
});

/** The install objects, in the order they are applied. */
export function installManifests(opts: Partial<InstallOptions> = {}) {
  const o = { ...INSTALL_DEFAULTS, ...opts };
  if (o.controlPlaneReplicas < 2 || o.routerReplicas < 2)
    throw new Error('the control plane and the routers run 2 replicas or more: one is not highly available');
  const labels = { [LABELS.managedBy]: FIELD_MANAGER };
  const secretEnv = (name: string, secret: string, key: string) => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key } },
  });
  const ns: INamespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: o.namespace,
      labels: { ...labels, 'pod-security.kubernetes.io/enforce': 'restricted' },
    },
  };
  const accounts: IServiceAccount[] = [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'govhost-control-plane', namespace: o.namespace },
    },
    // The router calls no Kubernetes API: an account with no rights, and no token mounted.
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'govhost-router', namespace: o.namespace },
      automountServiceAccountToken: false,
    },
  ];
  const role: IClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'govhost-runtime', labels },
    rules: runtimeRules(),
  };
  // Cluster-wide because each department's namespace is made by the driver as it comes.
  const binding: IClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'govhost-runtime', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata!.name! },
    subjects: [{ kind: 'ServiceAccount', name: 'govhost-control-plane', namespace: o.namespace }],
  };
  const probe = (path: string, port: number) => ({ httpGet: { path, port }, periodSeconds: 5 });
  const controlPlane = deployment(
    o,
    CONTROL_PLANE,
    o.controlPlaneReplicas,
    {
      name: 'govhost',
      image: o.image,
      command: ['node', ...SERVER_NODE_FLAGS, 'bin/govhost.mjs', 'server'],
      ports: [{ name: 'http', containerPort: API_PORT }],
      env: [
        secretEnv('DATABASE_URL', INSTALL_SECRETS.database.name, INSTALL_SECRETS.database.key),
        // Every replica seals, opens and signs with the same keys.
        secretEnv('GOVHOST_SECRET_KEY', INSTALL_SECRETS.keys.name, INSTALL_SECRETS.keys.secretKey),
        secretEnv('GOVHOST_AUDIT_KEY', INSTALL_SECRETS.keys.name, INSTALL_SECRETS.keys.auditKey),
        { name: 'GOVHOST_HOST', value: '0.0.0.0' },
        { name: 'GOVHOST_PORT', value: String(API_PORT) },
        { name: 'GOVHOST_DOMAIN', value: o.domain },
        { name: 'GOVHOST_DATA_DIR', value: '/data' },
      ],
      resources: { requests: { memory: '256Mi', cpu: '250m' }, limits: { memory: '512Mi' } },
      readinessProbe: probe('/readyz', API_PORT),
      livenessProbe: probe('/healthz', API_PORT),
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
    },
    'govhost-control-plane',
  );
  const router = deployment(
    o,
    ROUTER_COMPONENT,
    o.routerReplicas,
    {
      name: 'router',
      image: o.image,
      command: ['node', '--import', './bin/ts-loader.mjs', 'src/router/main.ts'],
      ports: [{ name: 'http', containerPort: ROUTER_PORT }],
      env: [
        { name: 'GOVHOST_ROUTER_HOST', value: '0.0.0.0' },
        { name: 'GOVHOST_ROUTER_PORT', value: String(ROUTER_PORT) },
        { name: 'GOVHOST_ROUTER_STATE', value: '/data/routes.json' },
        secretEnv('GOVHOST_ROUTER_ADMIN_TOKEN', INSTALL_SECRETS.keys.name, INSTALL_SECRETS.keys.routerToken),
      ],
      resources: { requests: { memory: '128Mi', cpu: '250m' }, limits: { memory: '256Mi' } },
      readinessProbe: { tcpSocket: { port: ROUTER_PORT }, periodSeconds: 5 },
      volumeMounts: [{ name: 'data', mountPath: '/data' }],
    },
    'govhost-router',
  );
  return [
    ns,
    ...accounts,
    role,
    binding,
    controlPlane,
    service(o, CONTROL_PLANE, API_PORT, 'ClusterIP'),
    pdb(o, CONTROL_PLANE),
    router,
    service(o, ROUTER_COMPONENT, ROUTER_PORT, 'LoadBalancer'),
    pdb(o, ROUTER_COMPONENT),
  ];
}
