/**
 * Every object the Kubernetes driver sends, checked against the Kubernetes API schemas
 * (kubernetes-models, Kubernetes 1.27); no cluster is involved.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { ReleaseSpec } from '../release-driver.ts';
import { departmentObjects, STAGING_MEMORY_MB } from './department-objects.ts';
import { LABELS } from './names.ts';
import { dropletSecret, releaseObjects, releaseSecrets } from './release-objects.ts';
import { validateObject } from './schema-check.ts';
import { stagingObjects } from './staging-objects.ts';

const spec: ReleaseSpec = {
  serviceId: '7c0c1f3e-8a8b-4f7e-9a55-0d2e5a1b3c4d',
  serviceKey: 'DOH/forms',
  releaseId: '1f6a9a57-2a0d-4b3e-8f3b-6b1d2c3e4f50',
  version: 3,
  instances: 2,
  memoryMb: 256,
  cpu: 1,
  diskMb: 512,
  healthCheck: { type: 'http', endpoint: '/healthz', startTimeoutSec: 60, intervalMs: 2000 },
  env: { NODE_ENV: 'production' },
  secretEnv: { DB_PASSWORD: 's3cret' },
  artifact: { kind: 'droplet', sha256: 'a'.repeat(64), builder: 'node', command: 'node server.js' },
  tier: 'gold',
};
const opts = {
  stackImages: { node: 'node:20-bookworm-slim' },
  fetchImage: 'busybox:1.36',
  archiveSha256: 'b'.repeat(64),
};

describe('Kubernetes objects (validated against the API schemas)', () => {
  it('a department: Namespace, ResourceQuota, LimitRange and a NetworkPolicy admitting only the router', async () => {
    const objects = departmentObjects(
      'DOH',
      { memoryMb: 4096, instances: 8, cpuPerInstance: 1 },
      { namespace: 'govhost', component: 'router' },
    );
    for (const o of objects) await validateObject(o);
    const [ns, quota, , policy] = objects;
    assert.equal(ns.metadata?.name, 'govhost-doh');
    assert.equal(ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
    assert.equal(quota.spec?.hard?.pods, '10', '8 instances and 2 staging pods');
    assert.deepEqual(policy.spec?.policyTypes, ['Ingress']);
    assert.equal(policy.spec?.ingress?.length, 1, 'one peer: the router');
  });

  it('a gold droplet release: Deployment with the fetching init container, PDB, spread over farms, Secrets', async () => {
    const objects = [
      ...releaseSecrets(spec),
      dropletSecret(spec, 'https://cp/x'),
      ...releaseObjects(spec, opts),
    ];
    for (const o of objects) await validateObject(o);
    assert.deepEqual(
      objects.map((o) => o.kind),
      ['Secret', 'Secret', 'Deployment', 'PodDisruptionBudget'],
    );
    const pod = (objects[2] as IDeployment).spec?.template.spec;
    assert.ok(pod);
    assert.equal(pod.containers[0]?.image, 'node:20-bookworm-slim');
    assert.equal(pod.containers[0]?.readinessProbe?.httpGet?.path, '/healthz');
    assert.deepEqual(pod.containers[0]?.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    assert.ok(
      !pod.containers[0]?.env?.some((e) => e.name === 'DB_PASSWORD'),
      'secrets only through the Secret',
    );
    assert.equal(pod.containers[0]?.envFrom?.length, 1);
    assert.equal(
      pod.initContainers?.[0]?.env?.find((e) => e.name === 'DROPLET_SHA256')?.value,
      'b'.repeat(64),
    );
    assert.match(pod.initContainers?.[0]?.args?.[0] ?? '', /sha256sum -c/);
    assert.equal(pod.topologySpreadConstraints?.[0]?.topologyKey, LABELS.farm);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
  });

  it("a droplet's PATH entries, path variables and direct start resolve against the pod's app folder; a restart stamps the template", async () => {
    const python: ReleaseSpec = {
      ...spec,
      env: { NODE_ENV: 'production', PORT: '1', GOVHOST_SERVICE: 'x' },
      artifact: {
        kind: 'droplet',
        sha256: 'a'.repeat(64),
        builder: 'node',
        command: 'npm start',
        run: {
          pathPrepend: ['.venv/bin'],
          pathEnv: { VIRTUAL_ENV: '.venv' },
          start: { script: 'node server.js', env: {} },
        },
      },
    };
    const [deployment] = releaseObjects(python, { ...opts, restartedAt: '2026-12-07T07:00:00.000Z' }) as [
      IDeployment,
    ];
    await validateObject(deployment);
    const template = deployment.spec?.template;
    const app = template?.spec?.containers[0];
    const env = Object.fromEntries((app?.env ?? []).map((e) => [e.name, e.value]));
    // The direct start puts the app's node_modules/.bin first, as in an instance folder locally.
    assert.match(env.PATH ?? '', /^\/app\/node_modules\/\.bin:\/app\/\.venv\/bin:.*\/usr\/bin/);
    assert.equal(env.VIRTUAL_ENV, '/app/.venv');
    assert.deepEqual(app?.command, ['/bin/sh', '-c', 'node server.js'], 'the direct start, not npm');
    assert.equal(env.PORT, '8080', 'the platform’s own variables win');
    assert.equal(env.GOVHOST_SERVICE, 'DOH/forms');
    assert.equal(new Set(app?.env?.map((e) => e.name)).size, app?.env?.length, 'one entry per name');
    assert.equal(template?.metadata?.annotations?.['govhost.io/restarted-at'], '2026-12-07T07:00:00.000Z');
  });

  it('a bronze release of its own image: no init container, no PDB, a port check as TCP probes', async () => {
    const own: ReleaseSpec = {
      ...spec,
      tier: 'bronze',
      secretEnv: {},
      healthCheck: { type: 'port', endpoint: '/', startTimeoutSec: 30, intervalMs: 1000 },
      artifact: { kind: 'image', image: 'registry.example.gov/doh/forms:1.2' },
    };
    const objects = releaseObjects(own, opts);
    for (const o of objects) await validateObject(o);
    assert.equal(objects.length, 1);
    const text = JSON.stringify(objects[0]);
    assert.ok(!text.includes('initContainers') && text.includes('tcpSocket') && !text.includes('envFrom'));
    assert.equal(releaseSecrets(own).length, 0);
  });

  it('a staging Job: its request Secret, and a locked-down pod with the staging allowance, no retry, a deadline', async () => {
    const objects = stagingObjects({
      name: 'stage-1f6a9a57-abc123',
      departmentCode: 'DOH',
      releaseId: spec.releaseId,
      image: 'registry.gov.example/govhost:0.1.0',
      request: '{"bundleUrl":"https://cp/b"}',
      deadlineSec: 1020,
      diskMb: 2048,
    });
    for (const o of objects) await validateObject(o);
    const [secret, job] = objects;
    assert.equal(secret.metadata?.namespace, 'govhost-doh');
    assert.equal(job.metadata?.namespace, 'govhost-doh');
    assert.equal(secret.stringData?.request, '{"bundleUrl":"https://cp/b"}');
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(job.spec?.activeDeadlineSeconds, 1020);
    assert.ok((job.spec?.ttlSecondsAfterFinished ?? 0) > 0);
    const pod = job.spec?.template.spec;
    assert.ok(pod);
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    const c = pod.containers[0];
    assert.deepEqual(c?.command, ['node', 'bin/govhost.mjs', 'stage-job']);
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c?.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(c?.resources?.limits?.memory, `${STAGING_MEMORY_MB}Mi`);
    assert.deepEqual(
      pod.volumes?.map((v) => [v.name, v.emptyDir?.sizeLimit]),
      [
        ['work', '2048Mi'],
        ['tmp', '64Mi'],
      ],
    );
    // The request (the service's variables) only through the Secret.
    const request = c?.env?.find((e) => e.name === 'GOVHOST_STAGE_REQUEST');
    assert.deepEqual(request?.valueFrom?.secretKeyRef, { name: secret.metadata?.name, key: 'request' });
    assert.ok(!JSON.stringify(job).includes('bundleUrl'));
  });

  it('the schema check rejects a wrong object (it is not a rubber stamp)', async () => {
    const [deployment] = releaseObjects(spec, opts);
    const broken = structuredClone(deployment) as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    await assert.rejects(validateObject(broken as object), /replicas must be integer/);
    await assert.rejects(validateObject({ apiVersion: 'v1', kind: 'Nonsense' }), /no kind Nonsense/);
  });

  it('refuses a droplet whose builder has no stack image', () => {
    assert.throws(
      () =>
        releaseObjects(
          { ...spec, artifact: { ...spec.artifact, builder: 'ruby' } as ReleaseSpec['artifact'] },
          opts,
        ),
      /no stack image is configured for builder ruby/,
    );
  });
});
