/**
 * Test helpers for admission through the API: the runtime's logic and store without processes (a
 * recording orchestrator), real bundles of the Node example, and the figures a refused change
 * must leave as they were.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openBlobStores } from '../blobs/blob-stores.ts';
import { buildPaths, createBuild } from '../build/build.logic.ts';
import { NO_CACHE } from '../build/dependency-cache.ts';
import {
  activateIfPlanned,
  finishDeployment,
  setReleaseStatus,
  setRuntimeSettings,
} from '../catalog/release.repository.ts';
import { packBundle } from '../cli/pack.ts';
import { loadSecretBox } from '../platform/secrets.ts';
import type { RuntimeDeps } from '../runtime/runtime.logic.ts';
import type { RuntimeWork } from '../runtime/runtime-work.ts';
import type { TestApp } from '../test-support/app.ts';

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as a client would
export type Json = any;

/** What the catalogue (and a hosting request) asks to name a service: its slug doubles as its names. */
export const serviceFields = (slug: string, tier: string) => ({
  slug,
  nameEn: slug,
  nameZh: slug,
  origin: 'new',
  channels: ['web'],
  slaTier: tier,
});

export interface AdmissionHarness {
  /** What the runtime was asked to do after an admitted change, e.g. `rollout portal`. */
  started: string[];
  bundlesDir: string;
  inject(
    token: string,
    method: string,
    url: string,
    payload?: unknown,
  ): Promise<{ status: number; json: Json }>;
  /** A process app whose manifest asks for `instances` of `memory` (and `more` manifest lines). */
  bundle(instances: number, memory: string, more?: string): Promise<string>;
  deploy(token: string, service: string, file: string): Promise<{ status: number; json: Json }>;
  /** Registers a service (201 asserted) and returns its id. */
  newService(token: string, department: string, slug: string, tier?: string): Promise<string>;
  /** What the rollout does once the instances are healthy: the newest release becomes current and live. */
  markLive(
    serviceId: string,
    deploymentId: string,
    size: { instances: number; memoryMb: number },
  ): Promise<void>;
  /** Everything a refused change must leave as it was. */
  footprint(serviceId: string): Promise<Record<string, unknown>>;
}

/** Gives the test app a runtime whose orchestrator records what it is told instead of starting processes. */
export async function admissionHarness(t: TestApp): Promise<AdmissionHarness> {
  const started: string[] = [];
  const bundlesDir = join(t.config.dataDir, 'bundles');
  await mkdir(bundlesDir, { recursive: true });
  const blobs = openBlobStores({ kind: 'data-dir', dataDir: t.config.dataDir, db: t.db });
  // Admission is decided before the orchestrator is told anything.
  const orchestrator: RuntimeWork = {
    rollout: async (svc: { slug: string }) => void started.push(`rollout ${svc.slug}`),
    scale: async (svc: { slug: string }) => void started.push(`scale ${svc.slug}`),
    instances: () => [],
    applyLifecycle: async () => undefined,
    edgeChanged: async () => undefined,
    // What status and logs read: nothing runs, so no OS user, no isolation and no log file.
    runAs: () => null,
    isolation: () => ({
      network: { enforced: false, reason: 'no processes in this test' },
      users: { enforced: false, reason: 'no processes in this test' },
    }),
    logPath: (instanceId: string) => join(t.config.dataDir, 'logs', `${instanceId}.log`),
    failedInstance: () => null,
  };
  const runtime: RuntimeDeps = {
    db: t.db,
    box: loadSecretBox(join(t.config.dataDir, 'secret.key'), undefined),
    work: orchestrator,
    // Real detection (deploys are refused or accepted on it); nothing is staged here.
    build: createBuild({
      db: t.db,
      ...buildPaths(t.config.dataDir),
      blobs,
      scratchDir: join(t.config.dataDir, 'staging'),
      settings: { npmRegistry: null, pipIndexUrl: null, python: t.config.buildPython },
      limits: { memoryMb: 1024, cpus: 1, timeoutSec: 60, diskMb: 1024 },
      limiter: null,
      cache: NO_CACHE,
    }),
    bundles: blobs.bundles,
    bundleLimit: t.config.bundleLimit,
    domain: t.config.domain,
    apiHost: t.config.host,
    publicUrl: (h) => `http://${h}`,
  };
  t.deps.runtime = runtime;

  const count = async (table: 'releases' | 'deployments' | 'reservations', serviceId: string) =>
    Number(
      (
        await t.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('service_id', '=', serviceId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  const harness: AdmissionHarness = {
    started,
    bundlesDir,
    async inject(token, method, url, payload) {
      const res = await t.request(token, {
        method: method as 'GET',
        url: `/api/v1${url}`,
        payload: payload as never,
      });
      return { status: res.statusCode, json: (res.body ? res.json() : null) as Json };
    },
    async bundle(instances, memory, more = '') {
      const dir = join(t.config.dataDir, `app-${instances}-${memory}-${Math.random().toString(36).slice(2)}`);
      await mkdir(dir, { recursive: true });
      await cp(join(import.meta.dirname, '../../examples/apps/node-hello/server.js'), join(dir, 'server.js'));
      await writeFile(
        join(dir, 'manifest.yml'),
        `applications:\n  - name: app\n    instances: ${instances}\n    memory: ${memory}\n    command: node server.js\n${more}`,
      );
      return (await packBundle(dir)).path;
    },
    async deploy(token, service, file) {
      const res = await t.request(token, {
        method: 'POST',
        url: `/api/v1/services/${service}/deployments`,
        headers: { 'content-type': 'application/gzip' },
        payload: await readFile(file),
      });
      return { status: res.statusCode, json: res.json() as Json };
    },
    async newService(token, department, slug, tier = 'silver') {
      const res = await harness.inject(token, 'POST', '/services', {
        department,
        ...serviceFields(slug, tier),
      });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      return res.json.id as string;
    },
    async markLive(serviceId, deploymentId, size) {
      const release = await t.db
        .selectFrom('releases')
        .select('id')
        .where('service_id', '=', serviceId)
        .orderBy('version', 'desc')
        .executeTakeFirstOrThrow();
      await setRuntimeSettings(t.db, serviceId, {
        current_release_id: release.id,
        instances: size.instances,
        memory_mb: size.memoryMb,
      });
      await activateIfPlanned(t.db, serviceId);
      await setReleaseStatus(t.db, release.id, 'live');
      await finishDeployment(t.db, deploymentId, 'succeeded', 'live');
    },
    async footprint(serviceId) {
      const svc = await t.db
        .selectFrom('services')
        .select(['instances', 'memory_mb', 'current_release_id', 'sla_tier'])
        .where('id', '=', serviceId)
        .executeTakeFirstOrThrow();
      const slots = await t.db
        .selectFrom('reservations')
        .select(['id', 'farm_id', 'slot', 'memory_mb', 'storage_mb'])
        .where('service_id', '=', serviceId)
        .orderBy('slot')
        .execute();
      return {
        releases: await count('releases', serviceId),
        deployments: await count('deployments', serviceId),
        reservations: await count('reservations', serviceId),
        slots,
        instances: svc.instances,
        memoryMb: svc.memory_mb,
        current: svc.current_release_id,
        tier: svc.sla_tier,
        bundles: (await readdir(bundlesDir)).sort(),
      };
    },
  };
  return harness;
}
