/**
 * A staging in a cluster (decision 027): a Job in the department's namespace that runs GovHost's
 * own image (`govhost stage-job`), its request (signed URLs, the service's variables) in a
 * Secret. The pod is as locked down as a release's: non-root, read-only root filesystem with
 * emptyDirs for its work, no service-account token, no retries, a deadline, resources from the
 * department's staging allowance; the Job removes itself a while after it ends.
 */
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { STAGE_DIR_ENV, STAGE_REQUEST_ENV } from '../../build/stage-job.ts';
import { STAGING_MEMORY_MB } from './department-objects.ts';
import { departmentNamespace, FIELD_MANAGER, LABELS } from './names.ts';
import { RUN_AS_USER, restricted } from './release-objects.ts';

/** The label of a staging Job's pod, which the stager's watch selects. */
export const STAGING_LABEL = 'govhost.io/staging';
/** Where the Job works (an emptyDir): the bundle, the app being built, the droplet's archive. */
export const STAGE_DIR = '/work';
/** How long a finished Job (and its pod's log) stays for someone to look at. */
export const STAGING_TTL_SEC = 3600;

export interface StagingJobSpec {
  /** The Job's name (and its Secret's, with `-request`): unique per staging. */
  name: string;
  departmentCode: string;
  releaseId: string;
  image: string;
  /** The request, as JSON (stage-job.ts's StageJobRequest). */
  request: string;
  /** Wall-clock limit of the whole Job, in seconds. */
  deadlineSec: number;
  /** Scratch disk of the build, in MiB: the emptyDir's and the container's limit. */
  diskMb: number;
}

export const stagingSecretName = (spec: Pick<StagingJobSpec, 'name'>) => `${spec.name}-request`;

const labelsOf = (spec: StagingJobSpec) => ({
  [LABELS.managedBy]: FIELD_MANAGER,
  [LABELS.department]: spec.departmentCode.toLowerCase(),
  [LABELS.release]: spec.releaseId,
  [STAGING_LABEL]: spec.name,
});

/** The Secret holding the Job's request, and the Job. */
export function stagingObjects(spec: StagingJobSpec): [ISecret, IJob] {
  const namespace = departmentNamespace(spec.departmentCode);
  const labels = labelsOf(spec);
  // One staging pod's share of the department's staging allowance (department-objects.ts).
  const resources = {
    requests: { memory: `${STAGING_MEMORY_MB}Mi`, cpu: '1' },
    limits: { memory: `${STAGING_MEMORY_MB}Mi`, cpu: '1', 'ephemeral-storage': `${spec.diskMb + 64}Mi` },
  };
  const secret: ISecret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: stagingSecretName(spec), namespace, labels },
    type: 'Opaque',
    stringData: { request: spec.request },
  };
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: spec.name, namespace, labels },
    spec: {
      // A failed build is reported, never run again: its output is the answer.
      backoffLimit: 0,
      activeDeadlineSeconds: spec.deadlineSec,
      ttlSecondsAfterFinished: STAGING_TTL_SEC,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS_USER,
            runAsGroup: RUN_AS_USER,
            fsGroup: RUN_AS_USER,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'stage',
              image: spec.image,
              command: ['node', 'bin/govhost.mjs', 'stage-job'],
              env: [
                {
                  name: STAGE_REQUEST_ENV,
                  valueFrom: { secretKeyRef: { name: stagingSecretName(spec), key: 'request' } },
                },
                { name: STAGE_DIR_ENV, value: STAGE_DIR },
                { name: 'HOME', value: '/tmp' },
                { name: 'TMPDIR', value: '/tmp' },
              ],
              resources,
              securityContext: restricted,
              volumeMounts: [
                { name: 'work', mountPath: STAGE_DIR },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          // The only writable paths: the build's folder and /tmp.
          volumes: [
            { name: 'work', emptyDir: { sizeLimit: `${spec.diskMb}Mi` } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  } satisfies IJob;
  return [secret, job];
}
