// test-seconds: 26
/**
 * Staging as a Job in the department's namespace, end to end against FakeKubeApi — a FAKE of the
 * cluster's API on loopback, whose fake kubelet runs the Job's container command
 * (`node bin/govhost.mjs stage-job`) as a local process with the Job's env. Everything else is
 * real: the control plane's HTTP server (signed bundle fetch, signed single-use upload, sha256
 * check), the builders, the blob store, the staging log. The droplet must equal what local
 * staging makes of the same bundle, and a failing build must fail with the same decisive line.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BlobStores, openBlobStores } from '../../blobs/blob-stores.ts';
import { NO_CACHE } from '../../build/dependency-cache.ts';
import { type StagerDeps, StagingFailed, stage } from '../../build/stager.ts';
import { readStagingLog } from '../../build/staging-log.ts';
import { stagingUrlKey } from '../../build/staging-urls.ts';
import { stagedSecondsByDay } from '../../build/staging-usage.repository.ts';
import { packBundle } from '../../cli/pack.ts';
import { loadKey } from '../../platform/secrets.ts';
import { findByCode } from '../../tenancy/department.repository.ts';
import { type TestApp, testApp } from '../../test-support/app.ts';
import { FakeKubeApi } from './fake-kube-api.ts';
import { grants, STAGER_RULES } from './install-manifests.ts';
import { KubernetesStager, type KubernetesStagerOptions } from './job-stager.ts';
import { KubeClient } from './kube-client.ts';
import { departmentNamespace } from './names.ts';

const ROOT = new URL('../../..', import.meta.url).pathname;

/** Every path under `dir` with its mode and (for files) content, for comparing two droplets. */
async function tree(dir: string, at = dir): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(at, { withFileTypes: true })) {
    const path = join(at, e.name);
    const mode = ((await stat(path)).mode & 0o777).toString(8);
    if (e.isDirectory()) Object.assign(out, { [`${relative(dir, path)}/`]: mode }, await tree(dir, path));
    else out[relative(dir, path)] = `${mode} ${await readFile(path, 'utf8')}`;
  }
  return out;
}

describe('staging as a Kubernetes Job (FakeKubeApi, a fake of the cluster; its kubelet runs the Job as a local process)', () => {
  let t: TestApp;
  let fake: FakeKubeApi;
  let blobs: BlobStores;
  let stager: KubernetesStager;
  let stagerOptions: KubernetesStagerOptions;
  let work: string;
  let department: { id: string; code: string };

  before(async () => {
    t = await testApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const controlPlaneUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const code = await t.department('STG');
    const row = await findByCode(t.db, null, code);
    assert.ok(row);
    department = { id: row.id, code };
    fake = new FakeKubeApi({
      ready: () => true,
      logs: () => [],
      jobs: { cwd: ROOT, path: process.env.PATH ?? '/usr/bin:/bin' },
    });
    await fake.start();
    blobs = openBlobStores({ kind: 'data-dir', dataDir: t.config.dataDir, db: t.db });
    stagerOptions = {
      client: new KubeClient(fake.kubeConfig()),
      db: t.db,
      droplets: blobs.droplets,
      image: 'govhost:test',
      controlPlaneUrl,
      urlKey: stagingUrlKey(loadKey(join(t.config.dataDir, 'secret.key'), null, 'GOVHOST_SECRET_KEY')),
      router: { namespace: 'govhost', component: 'router' },
      quota: async () => ({ memoryMb: 2048, instances: 4, cpuPerInstance: 1 }),
      startMarginMs: 60_000,
    };
    stager = new KubernetesStager(stagerOptions);
    work = await mkdtemp(join(tmpdir(), 'govhost-job-stager-'));
  });
  after(async () => {
    await fake.stop();
    await t.close();
    await rm(work, { recursive: true, force: true });
  });

  /** Deps of a staging on this test's store; `where` keeps the two stagings' droplets apart. */
  const depsOf = (where: string, k8s: boolean): StagerDeps => ({
    db: t.db,
    blobs,
    dropletsDir: join(work, where, 'droplets'),
    logsDir: join(work, where, 'logs'),
    scratchDir: join(work, where, 'scratch'),
    settings: { npmRegistry: null, pipIndexUrl: null, python: '/usr/bin/python3' },
    limits: { memoryMb: 512, cpus: 1, timeoutSec: 120, diskMb: 64 },
    limiter: null,
    cache: NO_CACHE,
    ...(k8s ? { stager } : {}),
  });

  /** A small Node app whose build script writes a file (no dependencies: no registry needed). */
  async function bundle(name: string, build: string) {
    const dir = join(work, 'src', name);
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({
        name,
        version: '1.0.0',
        scripts: { build: 'node build.js', start: 'node server.js' },
      }),
    );
    await writeFile(join(dir, 'build.js'), build);
    await writeFile(
      join(dir, 'server.js'),
      'require("http").createServer((q, s) => s.end("hi")).listen(process.env.PORT);\n',
    );
    const packed = await packBundle(dir);
    const { sha256 } = await blobs.bundles.put(createReadStream(packed.path));
    await rm(packed.path, { force: true });
    return { sha256, path: await blobs.bundles.file(sha256) };
  }

  const request = (b: { sha256: string; path: string }, serviceId: string, releaseId: string) => {
    const progress: string[] = [];
    return {
      progress,
      req: {
        releaseId,
        serviceId,
        departmentId: department.id,
        bundlePath: b.path,
        bundleSha256: b.sha256,
        kind: 'process' as const,
        command: 'npm start',
        buildpacks: [],
        env: { API_TOKEN: 'very-secret-token' },
        uid: null,
        progress: async (m: string) => void progress.push(m),
      },
    };
  };

  /** The department's charged staging seconds, as finance reads them (any day: the store is this test's). */
  const charged = () =>
    stagedSecondsByDay(t.db, department.id, new Date(0), new Date('3000-01-01T00:00:00Z'));

  it('stages a Node bundle through a Job: the droplet equals local staging’s, its log is the staging log', async () => {
    const b = await bundle(
      'forms',
      'const fs = require("fs");\nfs.mkdirSync("dist");\nfs.writeFileSync("dist/out.txt", "built " + process.env.API_TOKEN.length);\nconsole.log("building dist with", process.env.API_TOKEN);\n',
    );
    // Local staging as `govhost server` runs it: under the umask bin/govhost.mjs sets (the Job's).
    const umask = process.umask(0o077);
    const local = await stage(depsOf('local', false), request(b, 'svc-local', 'rel-local').req).finally(() =>
      process.umask(umask),
    );
    const started = Date.now();
    const { req, progress } = request(b, 'svc-k8s', '5e1d7c1a-0000-4000-8000-000000000001');
    const viaJob = await stage(depsOf('k8s', true), req);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(viaJob.built, true);
    assert.equal(viaJob.builder, 'node');
    assert.deepEqual(viaJob.run, local.run);
    const [a, k] = [await tree(local.dir), await tree(viaJob.dir)];
    assert.equal(k['dist/out.txt']?.split(' ').slice(1).join(' '), 'built 17');
    assert.deepEqual(k, a, 'the same files, contents and modes as local staging');
    assert.ok(progress.some((m) => m.startsWith('staging with builder')));
    // The pod's log, followed, is the staging log; the service's secret never shows in it.
    const log = await readStagingLog(join(work, 'k8s', 'logs'), req.releaseId, 0);
    assert.ok(log);
    assert.match(
      log.text,
      new RegExp(`staging in Job ${departmentNamespace(department.code)}/stage-5e1d7c1a-`),
    );
    assert.match(log.text, /-----> fetching the bundle/);
    assert.match(log.text, /building dist with \*\*\*/);
    assert.match(log.text, /droplet uploaded: \d+ bytes/);
    assert.ok(!log.text.includes('very-secret-token'));
    // The Job and its request are gone (the fake checked both against the schemas when applied);
    // the upload URL with them.
    const kinds = [...fake.objects.values()].map((o) => o.kind);
    assert.ok(!kinds.includes('Job') && !kinds.includes('Pod'), kinds.join());
    assert.ok(![...fake.objects.keys()].some((k) => k.includes('-request')));
    assert.equal((await t.db.selectFrom('staged_uploads').selectAll().execute()).length, 0);
    console.log(`staged through a Job on the fake in ${seconds.toFixed(1)} s`);
    // Each staging's time is kept for finance (decision 046), whether it ran here or in a Job,
    // and a reused droplet, staged by no one, adds nothing.
    const usage = await charged();
    assert.deepEqual(
      usage.map((u) => u.serviceId),
      ['svc-k8s', 'svc-local'],
    );
    const k8sSeconds = usage[0]?.seconds ?? 0;
    assert.ok(k8sSeconds > 0 && k8sSeconds <= seconds, `${k8sSeconds} s of ${seconds} s`);
    const again = await stage(depsOf('local', false), request(b, 'svc-local', 'rel-local-2').req);
    assert.equal(again.built, false);
    assert.deepEqual(await charged(), usage);
  });

  it('a failing build script fails the staging with its decisive line, as local staging does', async () => {
    const b = await bundle(
      'broken',
      'console.log("compiling templates");\nthrow new TypeError("the template folder is missing");\n',
    );
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => assert.fail('staging should have failed'),
        (err: unknown) => {
          assert.ok(err instanceof StagingFailed, String(err));
          return err;
        },
      );
    const before = await charged();
    const local = await failure(
      stage(depsOf('local', false), request(b, 'svc-local', 'rel-broken-local').req),
    );
    const viaJob = await failure(
      stage(depsOf('k8s', true), request(b, 'svc-k8s', '5e1d7c1a-0000-4000-8000-000000000002').req),
    );
    assert.ok(
      viaJob.decisive.some((l) => l.includes('TypeError: the template folder is missing')),
      viaJob.message,
    );
    assert.equal(viaJob.reason, local.reason);
    assert.deepEqual(viaJob.decisive, local.decisive);
    // A failed staging is not charged (decision 046): the department's charged time is as it was.
    assert.deepEqual(await charged(), before);
    assert.ok(![...fake.objects.values()].some((o) => o.kind === 'Job'));
  });

  it('a Job that cannot fetch its bundle, or passes its deadline, fails with the reason and no output lines', async () => {
    const failed = (p: Promise<unknown>) =>
      p.then(
        () => assert.fail('staging should have failed'),
        (err: unknown) => {
          assert.ok(err instanceof StagingFailed, String(err));
          return err;
        },
      );
    const b = await bundle('vanishing', 'console.log("never runs");\n');
    // The bundle is gone from the store when the Job asks for it (the control plane unpacked its
    // copy): the control plane answers 404.
    const copy = join(work, 'vanishing.tar.gz');
    await copyFile(b.path, copy);
    await blobs.bundles.delete(b.sha256);
    const gone = await failed(
      stage(
        depsOf('k8s', true),
        request({ ...b, path: copy }, 'svc-k8s', '5e1d7c1a-0000-4000-8000-000000000003').req,
      ),
    );
    assert.match(gone.reason, /the bundle could not be fetched: HTTP 404 GOVHOST_NOT_FOUND/);
    assert.deepEqual(gone.decisive, []);
    // A build that outlasts the Job's deadline: the fake kills it, as the Job controller would.
    const slow = await bundle('slow', 'console.log("building");\nsetTimeout(() => {}, 60_000);\n');
    const tight = new KubernetesStager({ ...stagerOptions, transferSec: 0 });
    const late = await failed(
      stage(
        {
          ...depsOf('k8s', true),
          stager: tight,
          limits: { memoryMb: 512, cpus: 1, timeoutSec: 1, diskMb: 64 },
        },
        request(slow, 'svc-k8s', '5e1d7c1a-0000-4000-8000-000000000004').req,
      ),
    );
    assert.equal(late.reason, 'staging took longer than its limit of 1 s');
    assert.ok(![...fake.objects.values()].some((o) => o.kind === 'Job' || o.kind === 'Pod'));
  });

  it('every call the stager made is granted by its RBAC rules, and every grant was used', () => {
    assert.deepEqual([...fake.grantsUsed()].sort(), [...grants(STAGER_RULES)].sort());
  });
});
