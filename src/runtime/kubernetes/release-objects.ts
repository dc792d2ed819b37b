/**
 * A release in a cluster: one Deployment whose pods run a stack image per builder with the
 * droplet fetched by an init container (over a short-lived signed URL kept fresh in a Secret,
 * its sha256 checked), or the release's own container image; its secret variables as a Secret;
 * for gold tier a PodDisruptionBudget and a spread over farms.
 */

import { posix } from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { instanceStart } from '../../build/instance-start.ts';
import type { ReleaseSpec } from '../release-driver.ts';
import type { HealthCheck } from '../runtime.types.ts';
import { departmentNamespace, deploymentName, LABELS, releaseLabels, splitKey } from './names.ts';

/** The port every instance listens on inside its pod (given as PORT, as locally). */
export const CONTAINER_PORT = 8080;
/** Where the droplet is unpacked: the app's working folder, writable (an emptyDir). */
export const APP_DIR = '/app';
/** Uid the pods run as when the image names none: never root. */
export const RUN_AS_USER = 10001;

export interface ReleaseObjectOptions {
  /** Image per builder (`node` → `node:20-bookworm-slim`) that runs droplets. */
  stackImages: Readonly<Record<string, string>>;
  /** Image of the init container that fetches and checks the droplet (wget, sha256sum, tar). */
  fetchImage: string;
  /** sha256 of the droplet archive the signed URL serves. */
  archiveSha256?: string;
  /** The stamp of the release's last restart: a new one makes the Deployment replace its pods. */
  restartedAt?: string;
}

/** PATH of the stack images (Debian-based) before a droplet's own entries. */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * A droplet's command and variables in the pod: its PATH entries and path variables (a Python
 * venv) and its direct start resolved against the app folder, as locally against an instance's.
 */
function dropletStart(artifact: Extract<ReleaseSpec['artifact'], { kind: 'droplet' }>) {
  const run = artifact.run ?? { pathPrepend: [], pathEnv: {} };
  const env: Record<string, string> = {};
  if (run.pathPrepend.length > 0)
    env.PATH = [...run.pathPrepend.map((p) => posix.join(APP_DIR, p)), IMAGE_PATH].join(':');
  for (const [k, v] of Object.entries(run.pathEnv)) env[k] = posix.join(APP_DIR, v);
  const start = instanceStart(run, artifact.command, APP_DIR, env.PATH ?? IMAGE_PATH);
  return { command: start.command, env: { ...env, ...start.env } };
}

/** Names of a release's Secrets: its variables, and the droplet URL the driver keeps fresh. */
/** The Secrets of the release whose Deployment is `deployment` (its variables; its droplet URL). */
export const secretNamesOf = (deployment: string) => ({
  env: `${deployment}-env`,
  droplet: `${deployment}-droplet`,
});
export const envSecretName = (spec: ReleaseSpec) => secretNamesOf(deploymentName(spec)).env;
export const dropletSecretName = (spec: ReleaseSpec) => secretNamesOf(deploymentName(spec)).droplet;

/** A container's security settings under the restricted Pod Security Standard. */
export const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

/** The manifest's check as a probe; a `process` check has none (running is enough). */
function probe(hc: HealthCheck) {
  if (hc.type === 'process') return null;
  return hc.type === 'http'
    ? { httpGet: { path: hc.endpoint || '/', port: 'http' } }
    : { tcpSocket: { port: 'http' } };
}

function probes(hc: HealthCheck) {
  const check = probe(hc);
  if (!check) return {};
  const period = Math.max(1, Math.round(hc.intervalMs / 1000));
  return {
    // Until the first pass, nothing else runs: the start timeout is the startup probe's budget.
    startupProbe: { ...check, periodSeconds: 1, failureThreshold: Math.max(1, hc.startTimeoutSec) },
    readinessProbe: { ...check, periodSeconds: period, failureThreshold: 1 },
    livenessProbe: { ...check, periodSeconds: 10, failureThreshold: 3 },
  };
}

/** The Secret objects of a release: its secret variables (when it has any). */
export function releaseSecrets(spec: ReleaseSpec): ISecret[] {
  if (Object.keys(spec.secretEnv).length === 0) return [];
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: envSecretName(spec), namespace: namespaceOf(spec), labels: releaseLabels(spec) },
      type: 'Opaque',
      stringData: spec.secretEnv,
    },
  ];
}

/** The Secret holding the droplet's signed URL, re-signed by the driver before it expires. */
export function dropletSecret(spec: ReleaseSpec, url: string): ISecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: dropletSecretName(spec), namespace: namespaceOf(spec), labels: releaseLabels(spec) },
    type: 'Opaque',
    stringData: { url },
  };
}

const namespaceOf = (spec: ReleaseSpec) => departmentNamespace(splitKey(spec.serviceKey).department);

/** The release's Deployment (and, for gold tier, its PodDisruptionBudget). */
export function releaseObjects(
  spec: ReleaseSpec,
  opts: ReleaseObjectOptions,
): (IDeployment | IPodDisruptionBudget)[] {
  const labels = releaseLabels(spec);
  const name = deploymentName(spec);
  const namespace = namespaceOf(spec);
  const { artifact } = spec;
  const droplet = artifact.kind === 'droplet';
  if (droplet && !opts.stackImages[artifact.builder])
    throw new Error(`no stack image is configured for builder ${artifact.builder}`);
  if (droplet && !opts.archiveSha256) throw new Error('a droplet release needs its archive sha256');
  const image = droplet ? opts.stackImages[artifact.builder]! : artifact.image;
  const started = droplet ? dropletStart(artifact) : { command: artifact.command, env: {} };
  const command = started.command ? ['/bin/sh', '-c', started.command] : undefined;
  const resources = {
    requests: { memory: `${spec.memoryMb}Mi`, cpu: String(spec.cpu) },
    limits: { memory: `${spec.memoryMb}Mi`, cpu: String(spec.cpu), 'ephemeral-storage': `${spec.diskMb}Mi` },
  };
  // One entry per name (server-side apply keys the list by name); the platform's own win.
  const env = Object.entries({
    HOME: '/tmp',
    ...spec.env,
    ...started.env,
    PORT: String(CONTAINER_PORT),
    GOVHOST_SERVICE: spec.serviceKey,
  }).map(([name, value]) => ({ name, value }));
  const fetch: IContainer | null = droplet
    ? {
        name: 'fetch-droplet',
        image: opts.fetchImage,
        command: ['/bin/sh', '-c'],
        // The URL is short-lived: the Secret holds a fresh one whenever a pod starts.
        args: [
          'set -eu; wget -q -O /tmp/droplet.tar.gz "$DROPLET_URL"; ' +
            'echo "$DROPLET_SHA256  /tmp/droplet.tar.gz" | sha256sum -c -s; ' +
            `tar -xzf /tmp/droplet.tar.gz -C ${APP_DIR}; rm /tmp/droplet.tar.gz`,
        ],
        env: [
          { name: 'DROPLET_URL', valueFrom: { secretKeyRef: { name: dropletSecretName(spec), key: 'url' } } },
          { name: 'DROPLET_SHA256', value: opts.archiveSha256 },
        ],
        resources: { requests: { memory: '64Mi', cpu: '100m' }, limits: { memory: '64Mi', cpu: '500m' } },
        securityContext: restricted,
        volumeMounts: [
          { name: 'app', mountPath: APP_DIR },
          { name: 'tmp', mountPath: '/tmp' },
        ],
      }
    : null;
  const gold = spec.tier === 'gold';
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: spec.instances,
      selector: { matchLabels: { [LABELS.release]: spec.releaseId } },
      // Failing health is noticed by the driver at the start timeout; the deadline backs it.
      progressDeadlineSeconds: Math.max(60, spec.healthCheck.startTimeoutSec * 2),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels,
          ...(opts.restartedAt ? { annotations: { 'govhost.io/restarted-at': opts.restartedAt } } : {}),
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS_USER,
            runAsGroup: RUN_AS_USER,
            fsGroup: RUN_AS_USER,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...(fetch ? { initContainers: [fetch] } : {}),
          containers: [
            {
              name: 'app',
              image,
              ...(command ? { command } : {}),
              ...(droplet ? { workingDir: APP_DIR } : {}),
              ports: [{ name: 'http', containerPort: CONTAINER_PORT }],
              env,
              ...(Object.keys(spec.secretEnv).length > 0
                ? { envFrom: [{ secretRef: { name: envSecretName(spec) } }] }
                : {}),
              resources,
              ...probes(spec.healthCheck),
              securityContext: restricted,
              volumeMounts: [
                { name: 'app', mountPath: APP_DIR },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          // The only writable paths: the app's folder and /tmp, both as big as its disk quota.
          volumes: [
            { name: 'app', emptyDir: { sizeLimit: `${spec.diskMb}Mi` } },
            { name: 'tmp', emptyDir: { sizeLimit: `${spec.diskMb}Mi` } },
          ],
          ...(gold
            ? {
                topologySpreadConstraints: [
                  {
                    maxSkew: 1,
                    topologyKey: LABELS.farm,
                    whenUnsatisfiable: 'DoNotSchedule',
                    labelSelector: { matchLabels: { [LABELS.release]: spec.releaseId } },
                  },
                ],
              }
            : {}),
        },
      },
    },
  } satisfies IDeployment;
  const pdb = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace, labels },
    // One at a time: a node drain never takes a gold service's instances down together.
    spec: { maxUnavailable: 1, selector: { matchLabels: { [LABELS.release]: spec.releaseId } } },
  } satisfies IPodDisruptionBudget;
  return gold ? [deployment, pdb] : [deployment];
}
