// A deploy with bundles and droplets in the database (GOVHOST_BLOB_STORE=postgres): this host's
// local copies are removed after the deploy, and a scale still starts its new instance, the droplet
// fetched from the store, verified and unpacked again.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
  viaRouter,
  waitDeployment,
} from './runtime-helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'govhost-blobs-e2e-'));
chmodSync(work, 0o755);
const dataDir = join(work, 'data');
const appsDir = join(work, 'apps');
const env = cleanEnv({
  GOVHOST_DATA_DIR: dataDir,
  GOVHOST_APPS_DIR: appsDir,
  GOVHOST_PORT: '0',
  GOVHOST_ROUTER_PORT: '0',
  GOVHOST_ROUTER_ADMIN_PORT: '0',
  GOVHOST_BLOB_STORE: 'postgres',
});
const DEPT = 'BLB';
const host = `app.${DEPT.toLowerCase()}.localhost`;

describe('blob store in PostgreSQL, end to end', () => {
  let server: GovhostProcess;
  let url: string;
  let routerUrl: string;
  let token: string;
  let api: Api;

  before(async () => {
    const s = await startServer(env);
    server = s.proc;
    url = s.url;
    routerUrl = s.routerUrl as string;
    token = s.token as string;
    api = apiClient(url, token);
    assert.equal(
      (await api('POST', '/departments', { code: DEPT, nameEn: 'Blobs', nameZh: '物件' })).status,
      201,
    );
    await createService(api, DEPT, 'app');
  });
  after(async () => {
    closeAgent();
    if (server) await stopProcess(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('starts a new instance from the droplet in the store after this host lost its copies', async () => {
    const app = join(work, 'app');
    mkdirSync(app, { mode: 0o755 });
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'blob-app', version: '1.0.0', scripts: { start: 'node server.js' } }),
    );
    writeFileSync(
      join(app, 'server.js'),
      "require('node:http').createServer((q, s) => s.end('from the store, instance ' + process.env.GOVHOST_INSTANCE_INDEX)).listen(process.env.PORT);\n",
    );
    const first = await deployDir(url, api, token, `${DEPT}/app`, app);
    assert.equal(first.deployment.state, 'succeeded', JSON.stringify(first.deployment));
    await untilServed(routerUrl, host, (r) => r.body.includes('from the store'));
    // Nothing of the blobs went to the data folder's store.
    assert.equal(existsSync(join(dataDir, 'droplet-archives')), false);
    assert.equal(existsSync(join(dataDir, 'bundles')), false);

    // This host's copies go: the droplet folders, the fetched bundles, the release's working copy.
    rmSync(join(dataDir, 'droplets'), { recursive: true, force: true });
    rmSync(join(dataDir, 'cache', 'blobs'), { recursive: true, force: true });
    const [serviceId] = readdirSync(appsDir).filter((n) => !n.startsWith('.'));
    assert.ok(serviceId);
    rmSync(join(appsDir, serviceId, 'v1'), { recursive: true, force: true });

    const scaled = await api('POST', `/services/${DEPT}/app/scale`, { instances: 2 });
    assert.equal(scaled.status, 202, JSON.stringify(scaled.json));
    const done = await waitDeployment(api, `${DEPT}/app`, scaled.json.id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    const status = (await api('GET', `/services/${DEPT}/app/status`)).json;
    assert.equal(status.instances.filter((i: { state: string }) => i.state === 'healthy').length, 2);
    const release = (await api('GET', `/services/${DEPT}/app/releases`)).json.items[0];
    assert.ok(existsSync(join(dataDir, 'droplets', release.droplet)), 'the droplet was unpacked again');
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 2; i++) seen.add((await viaRouter(routerUrl, host)).body);
    assert.equal(seen.size, 2, `both instances answer: ${[...seen]}`);
  });
});
