// test-seconds: 53
// The hosting runtime end to end: the real server process, real service processes, real HTTP
// through the real router. One platform for the whole file; each test leaves it serving.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { craftTarball } from '../../src/catalog/bundle.fixtures.ts';
import {
  cleanEnv,
  type GovhostProcess,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import {
  type Api,
  apiClient,
  closeAgent,
  createService,
  deployDir,
  untilServed,
  uploadBundle,
  uploadFile,
  viaRouter,
  waitDeployment,
} from './runtime-helpers.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/apps/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'govhost-runtime-e2e-'));
const env = cleanEnv({
  GOVHOST_DATA_DIR: join(work, 'data'),
  GOVHOST_PORT: '0',
  GOVHOST_ROUTER_PORT: '0',
  GOVHOST_ROUTER_ADMIN_PORT: '0',
  GOVHOST_LOG_LEVEL: 'info',
});

let server: GovhostProcess;
let url: string;
let routerUrl: string;
let token: string;
let api: Api;
const DEPT = 'RTE';
const host = (slug: string) => `${slug}.${DEPT.toLowerCase()}.localhost`;

async function service(slug: string) {
  await createService(api, DEPT, slug);
}

/** A copy of the Node example whose page says `version`, so two releases can be told apart. */
function nodeApp(version: string, extra: (dir: string) => void = () => {}) {
  const dir = mkdtempSync(join(work, 'app-'));
  cpSync(join(EXAMPLES, 'node-hello'), dir, { recursive: true });
  writeFileSync(join(dir, 'VERSION'), version);
  extra(dir);
  return dir;
}

describe('hosting runtime', () => {
  before(async () => {
    const s = await startServer(env);
    server = s.proc;
    url = s.url;
    routerUrl = s.routerUrl as string;
    token = s.token as string;
    api = apiClient(url, token);
    assert.equal(
      (await api('POST', '/departments', { code: DEPT, nameEn: 'Runtime', nameZh: '運行' })).status,
      201,
    );
  });
  after(async () => {
    closeAgent();
    if (server) await stopProcess(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('deploys the Node, Python and static examples and serves each through the router', async () => {
    for (const [slug, dir, expect] of [
      ['node', join(EXAMPLES, 'node-hello'), /Hello from GovHost/],
      ['python', join(EXAMPLES, 'python-hello'), /Python/],
      ['static', join(EXAMPLES, 'static-site'), /<html/i],
    ] as const) {
      await service(slug);
      const { deployment } = await deployDir(url, api, token, `${DEPT}/${slug}`, dir);
      assert.equal(deployment.state, 'succeeded', deployment.message);
      const res = await viaRouter(routerUrl, host(slug));
      assert.equal(res.status, 200, `${slug}: ${res.body}`);
      const status = (await api('GET', `/services/${DEPT}/${slug}/status`)).json;
      assert.equal(status.url, `http://${host(slug)}:${new URL(routerUrl).port}`);
      assert.match(res.body, expect);
    }
    const unknown = await viaRouter(routerUrl, 'nothing.here.localhost');
    assert.equal(unknown.status, 404);
  });

  it('restarts an instance killed with SIGKILL and serves again', async () => {
    const before = (await api('GET', `/services/${DEPT}/node/status`)).json.instances[0];
    // The whole process group, as when the app itself dies (the recorded pid is its shell).
    process.kill(-before.pid, 'SIGKILL');
    const started = Date.now();
    let status = before;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      status = (await api('GET', `/services/${DEPT}/node/status`)).json.instances[0];
      if (status.pid !== before.pid && status.state === 'healthy') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status.instanceId, before.instanceId);
    assert.notEqual(status.pid, before.pid);
    assert.equal(status.state, 'healthy');
    assert.ok(status.restarts >= 1);
    const page = await untilServed(routerUrl, host('node'), (r) => r.status === 200, 10_000);
    assert.match(page.body, /Hello from GovHost/);
    console.log(`recovery after kill -9: ${Date.now() - started} ms to healthy and serving`);
  });

  it('rolls out a new release under continuous load with zero failed requests', async () => {
    await service('rolling');
    const v1 = await deployDir(url, api, token, `${DEPT}/rolling`, nodeApp('v1'));
    assert.equal(v1.deployment.state, 'succeeded', v1.deployment.message);
    let failures = 0;
    let served = 0;
    let sawV2 = false;
    let stop = false;
    const load = (async () => {
      // Bounded: at most 20,000 requests or 60 s, whichever comes first.
      for (const deadline = Date.now() + 60_000; !stop && served < 20_000 && Date.now() < deadline; ) {
        const r = await viaRouter(routerUrl, host('rolling')).catch(() => ({ status: 0, body: '' }));
        served += 1;
        if (r.status !== 200) failures += 1;
        if (r.body.includes('v2')) sawV2 = true;
      }
    })();
    const v2 = await deployDir(url, api, token, `${DEPT}/rolling`, nodeApp('v2'));
    await untilServed(routerUrl, host('rolling'), (r) => r.body.includes('v2'));
    stop = true;
    await load;
    assert.equal(v2.deployment.state, 'succeeded', v2.deployment.message);
    assert.ok(sawV2 || served > 0);
    assert.equal(failures, 0, `${failures} of ${served} requests failed during the rollout`);
    console.log(`rolling deploy: ${served} requests, ${failures} failed`);
  });

  it('keeps the old release serving when the new one never becomes healthy', async () => {
    const broken = nodeApp('v3-broken', (dir) => {
      writeFileSync(
        join(dir, 'manifest.yml'),
        'applications:\n- name: broken\n  command: node server.js\n  health-check-type: http\n  health-check-http-endpoint: /no-such-page\n  timeout: 3\n',
      );
    });
    const res = await deployDir(url, api, token, `${DEPT}/rolling`, broken);
    assert.equal(res.deployment.state, 'failed');
    assert.match(res.deployment.message, /did not become healthy/);
    assert.match(res.deployment.message, /previous release is still serving/);
    const page = await viaRouter(routerUrl, host('rolling'));
    assert.equal(page.status, 200);
    assert.match(page.body, /v2/);
    const releases = (await api('GET', `/services/${DEPT}/rolling/releases`)).json.items;
    assert.equal(releases[0].status, 'failed');
    assert.equal(releases.find((r: { status: string }) => r.status === 'live').version, 2);
  });

  it('scales 1 → 3 → 1', async () => {
    const up = await api('POST', `/services/${DEPT}/rolling/scale`, { instances: 3 });
    assert.equal(up.status, 202, JSON.stringify(up.json));
    assert.equal((await waitDeployment(api, `${DEPT}/rolling`, up.json.id)).state, 'succeeded');
    const three = (await api('GET', `/services/${DEPT}/rolling/status`)).json.instances;
    assert.equal(three.filter((i: { state: string }) => i.state === 'healthy').length, 3);
    const pids = new Set<string>();
    for (let i = 0; i < 30 && pids.size < 3; i++) {
      const r = await viaRouter(routerUrl, host('rolling'));
      pids.add(/process <strong>(\d+)/.exec(r.body)?.[1] ?? '');
    }
    assert.equal(pids.size, 3, 'the router spreads requests over the three instances');
    const down = await api('POST', `/services/${DEPT}/rolling/scale`, { instances: 1 });
    assert.equal((await waitDeployment(api, `${DEPT}/rolling`, down.json.id)).state, 'succeeded');
    assert.equal((await api('GET', `/services/${DEPT}/rolling/status`)).json.instances.length, 1);
  });

  it("lists every service's live state in one answer, a department seeing only its own", async () => {
    const all = await api('GET', `/runtime/services?department=${DEPT}`);
    assert.equal(all.status, 200, JSON.stringify(all.json));
    const byKey = new Map(all.json.items.map((i: { service: string }) => [i.service, i]));
    assert.deepEqual(byKey.get(`${DEPT}/rolling`), {
      service: `${DEPT}/rolling`,
      lifecycle: 'active',
      desiredInstances: 1,
      release: (await api('GET', `/services/${DEPT}/rolling/status`)).json.release.version,
      instances: 1,
      running: 1,
    });
    assert.equal(
      (byKey.get(`${DEPT}/static`) as { running: number }).running,
      0,
      'a static site runs nothing',
    );

    assert.equal((await api('POST', '/departments', { code: 'RTX', nameEn: 'X', nameZh: 'X' })).status, 201);
    const u = await api('POST', '/users', {
      username: 'rtx.viewer',
      displayName: 'V',
      role: 'dept-viewer',
      department: 'RTX',
    });
    assert.equal(u.status, 201, JSON.stringify(u.json));
    const t = await api('POST', '/tokens', { name: 'list', user: 'rtx.viewer', scope: 'read' });
    const outsider = apiClient(url, t.json.secret);
    const mine = await outsider('GET', '/runtime/services');
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.json.items, []);
    assert.equal((await outsider('GET', `/runtime/services?department=${DEPT}`)).status, 404);
    assert.equal((await api('GET', '/runtime/services?limit=0')).status, 400);
  });

  it('rejects bad bundles with a precise message', async () => {
    const noWay = mkdtempSync(join(work, 'bad-'));
    writeFileSync(join(noWay, 'README.txt'), 'nothing to run');
    const none = await uploadBundle(url, token, `${DEPT}/node`, noWay);
    assert.equal(none.status, 422);
    assert.match(none.json.detail, /no way to start this app/);
    const badManifest = nodeApp('x', (dir) =>
      writeFileSync(join(dir, 'manifest.yml'), 'applications:\n- name: x\n  instances: lots\n'),
    );
    const bad = await uploadBundle(url, token, `${DEPT}/node`, badManifest);
    assert.equal(bad.status, 422);
    assert.match(bad.json.detail, /line 3/);
    const unknownField = nodeApp('x', (dir) =>
      writeFileSync(join(dir, 'manifest.yml'), 'applications:\n- name: x\n  colour: blue\n'),
    );
    assert.match((await uploadBundle(url, token, `${DEPT}/node`, unknownField)).json.detail, /colour/);
    const crafted = async (entries: Parameters<typeof craftTarball>[1], opts = {}) =>
      uploadFile(
        url,
        token,
        `${DEPT}/node`,
        await craftTarball(mkdtempSync(join(work, 'tar-')), entries, opts),
      );
    const outside = await crafted([{ path: '../../etc/cron.d/evil', body: 'x' }]);
    assert.equal(outside.status, 422);
    assert.match(outside.json.detail, /\.\./);
    const absolute = await crafted([{ path: '/etc/passwd', body: 'x' }]);
    assert.equal(absolute.status, 422);
    assert.match(absolute.json.detail, /absolute/);
    const link = await crafted([{ path: 'server.js', type: 'SymbolicLink', linkpath: '/etc/shadow' }]);
    assert.equal(link.status, 422);
    assert.match(link.json.detail, /server\.js/);
    const notGzip = await crafted([{ path: 'index.html', body: 'x' }], { gzip: false });
    assert.equal(notGzip.status, 422);
    assert.match(notGzip.json.detail, /gzip/);
    const cf = nodeApp('cf', (dir) =>
      writeFileSync(
        join(dir, 'manifest.yml'),
        'applications:\n- name: cf\n  command: node server.js\n  buildpacks: [go_buildpack]\n  stack: cflinuxfs4\n',
      ),
    );
    const accepted = await uploadBundle(url, token, `${DEPT}/node`, cf);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.json));
    // A buildpack GovHost does not have is accepted with a warning; the files choose the builder.
    assert.ok(accepted.json.warnings.some((w: string) => /buildpacks: go_buildpack is not among/.test(w)));
    assert.match(accepted.json.builder, /^node: /);
    await waitDeployment(api, `${DEPT}/node`, accepted.json.deployment.id);
  });

  it('runs each service as its own OS user, unable to read another service or the bundles', {
    skip: process.getuid?.() !== 0 ? 'needs root' : false,
  }, async () => {
    const reader = (dir: string) =>
      writeFileSync(
        join(dir, 'server.js'),
        `const http = require('node:http'); const fs = require('node:fs');
http.createServer((req, res) => {
  const p = new URL(req.url, 'http://x').searchParams.get('path');
  if (!p) return res.end('reader ok');
  try { fs.readFileSync(p); res.end('READ'); } catch (e) { res.end(e.code); }
}).listen(process.env.PORT);`,
      );
    await api('POST', '/departments', { code: 'OTH', nameEn: 'Other', nameZh: '其他' });
    const other = await api('POST', '/services', {
      department: 'OTH',
      slug: 'secret',
      nameEn: 's',
      nameZh: 's',
      origin: 'new',
      channels: ['web'],
      slaTier: 'bronze',
    });
    await service('reader');
    const r1 = await deployDir(url, api, token, `OTH/secret`, join(EXAMPLES, 'node-hello'));
    assert.equal(r1.deployment.state, 'succeeded', r1.deployment.message);
    const app = mkdtempSync(join(work, 'reader-'));
    reader(app);
    writeFileSync(join(app, 'manifest.yml'), 'applications:\n- name: reader\n  command: node server.js\n');
    const r2 = await deployDir(url, api, token, `${DEPT}/reader`, app);
    assert.equal(r2.deployment.state, 'succeeded', r2.deployment.message);
    const warned = /"appsDir":"([^"]+)"/.exec(server.out())?.[1];
    const appsDir = warned ?? join(work, 'data', 'apps');
    const read = async (path: string) =>
      (await viaRouter(routerUrl, host('reader'), `/?path=${encodeURIComponent(path)}`)).body;
    const readerId = (await api('GET', `/services/${DEPT}/reader`)).json.id;
    assert.equal(
      await read(join(appsDir, readerId, 'v1', 'server.js')),
      'READ',
      'a service reads its own files',
    );
    assert.equal(await read(join(appsDir, other.json.id, 'v1', 'server.js')), 'EACCES');
    assert.equal(await read(join(work, 'data', 'secret.key')), 'EACCES');
    const pid = (await api('GET', `/services/${DEPT}/reader/status`)).json.instances[0].pid;
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    assert.ok(Number(uid) >= 20000, `instance runs as uid ${uid}`);
  });

  it('stops a suspended service and runs it again once active', async () => {
    const svc = (await api('GET', `/services/${DEPT}/python`)).json;
    assert.equal(svc.lifecycle, 'active', 'the first live release made the service active');
    assert.equal((await api('PATCH', `/services/${DEPT}/python`, { lifecycle: 'suspended' })).status, 200);
    assert.equal((await api('GET', `/services/${DEPT}/python/status`)).json.instances.length, 0);
    assert.equal((await viaRouter(routerUrl, host('python'))).status, 404);
    assert.equal((await api('PATCH', `/services/${DEPT}/python`, { lifecycle: 'active' })).status, 200);
    assert.equal((await viaRouter(routerUrl, host('python'))).status, 200);
  });

  it('brings every service back after the platform is killed and started again', async () => {
    const before = (await api('GET', `/services/${DEPT}/rolling/status`)).json.instances[0];
    await stopProcess(server, 'SIGKILL');
    const whileDown = await viaRouter(routerUrl, host('rolling')).then(
      (r) => r.status,
      (err: Error) => err.message,
    );
    // Started again before any assertion: a failure must not leave the router and the instances
    // running with no platform to stop them at the end.
    const s = await startServer(env);
    server = s.proc;
    url = s.url;
    api = apiClient(url, token);
    // The router and the instances outlive the control plane: citizens are still served.
    assert.equal(whileDown, 200);
    assert.equal(s.routerUrl, routerUrl, 'the router was adopted, not replaced');
    for (const slug of ['node', 'python', 'static', 'rolling']) {
      await untilServed(routerUrl, host(slug), (r) => r.status === 200);
    }
    const after = (await api('GET', `/services/${DEPT}/rolling/status`)).json.instances[0];
    assert.equal(after.pid, before.pid, 'the running instance was adopted, not restarted');
  });
});
