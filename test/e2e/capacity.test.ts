// test-seconds: 33
// Capacity end to end: the real server registers its host as the local farm; a scale beyond what
// the farm can hold is refused and the service keeps serving; the CLI shows farms and quotas; a
// rollout that never becomes healthy gives back the capacity admitted for it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  BIN,
  cleanEnv,
  type GovhostProcess,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import { type Api, apiClient, closeAgent, deployDir, untilServed, viaRouter } from './runtime-helpers.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/apps/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'govhost-capacity-e2e-'));
const env = cleanEnv({
  GOVHOST_DATA_DIR: join(work, 'data'),
  GOVHOST_PORT: '0',
  GOVHOST_ROUTER_PORT: '0',
  GOVHOST_ROUTER_ADMIN_PORT: '0',
});

let server: GovhostProcess;
let url: string;
let routerUrl: string;
let token: string;
let api: Api;
const DEPT = 'CAP';

/** The CLI as people run it, against this server. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...cleanEnv({ GOVHOST_URL: url, GOVHOST_TOKEN: token }), NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('capacity on a running platform', () => {
  before(async () => {
    const s = await startServer(env);
    server = s.proc;
    url = s.url;
    routerUrl = s.routerUrl as string;
    token = s.token as string;
    api = apiClient(url, token);
    assert.equal(
      (await api('POST', '/departments', { code: DEPT, nameEn: 'Capacity', nameZh: '容量' })).status,
      201,
    );
  });

  after(async () => {
    closeAgent();
    if (server) await stopProcess(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('registers this host as the active local farm with its real capacity', async () => {
    const res = await api('GET', '/farms/local');
    assert.equal(res.status, 200);
    assert.equal(res.json.isLocal, true);
    assert.equal(res.json.state, 'active');
    assert.equal(res.json.capacity.vcpu, availableParallelism());
    assert.ok(res.json.capacity.memoryMb > 0);
  });

  it('refuses a scale beyond the farm and the service keeps serving', async () => {
    const created = await api('POST', '/services', {
      department: DEPT,
      slug: 'hello',
      nameEn: 'Hello',
      nameZh: '你好',
      origin: 'new',
      channels: ['web'],
      slaTier: 'silver',
    });
    assert.equal(created.status, 201);
    const { deployment } = await deployDir(url, api, token, `${DEPT}/hello`, join(EXAMPLES, 'node-hello'));
    assert.equal(deployment.state, 'succeeded', deployment.message);
    const host = `hello.${DEPT.toLowerCase()}.localhost`;
    await untilServed(routerUrl, host, (r) => r.status === 200);
    assert.equal((await api('GET', `/departments/${DEPT}/quota`)).json.usage.instances, 1);

    // The farm as an operator would describe a one-CPU host: room for the one instance only.
    assert.equal((await api('PATCH', '/farms/local', { vcpu: 1, cpuOvercommit: 1 })).status, 200);
    const refused = await api('POST', `/services/${DEPT}/hello/scale`, { instances: 2 });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.code, 'GOVHOST_INSUFFICIENT_CAPACITY');
    assert.match(refused.json.detail, /instance 2 of 2/);
    const status = await api('GET', `/services/${DEPT}/hello/status`);
    assert.equal(status.json.desired.instances, 1);
    assert.equal(status.json.instances.length, 1);
    assert.equal((await untilServed(routerUrl, host, (r) => r.status === 200)).status, 200);
    const unmet = await api('GET', '/capacity/unmet-demand');
    assert.equal(unmet.json.items[0].service, `${DEPT}/hello`);
    assert.equal(unmet.json.items[0].instances, 2);
  });

  it('shows farms and quotas and sets them through the CLI', async () => {
    const list = await cli(['farms']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /local\*\s+active/);
    const add = await cli([
      'farms',
      'add',
      'FARM-02',
      '--vcpu',
      '64',
      '--memory',
      '512G',
      '--storage',
      '10T',
      '--idle-watts',
      '250',
      '--max-watts',
      '750',
      '--cost',
      '3300000',
      '--phase',
      '2',
      '--state',
      'ordered',
    ]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /64 vCPU, 512G memory, 10240 GB storage/);
    const set = await cli([
      'farms',
      'set',
      'FARM-02',
      '--state',
      'active',
      '--active-from',
      '2012-10-01',
      '--overcommit-cpu',
      '2',
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /active from:\s+2012-10-01/);
    assert.match(set.stdout, /CPU ×2, memory ×1/);
    const quotaSet = await cli([
      'quota',
      'set',
      DEPT,
      '--memory',
      '64G',
      '--instances',
      '100',
      '--services',
      '50',
    ]);
    assert.equal(quotaSet.code, 0, quotaSet.stderr);
    const quota = await cli(['quota', DEPT, '--json']);
    assert.equal(quota.code, 0, quota.stderr);
    const q = JSON.parse(quota.stdout);
    assert.deepEqual(q.limits, { memoryMb: 65536, instances: 100, services: 50 });
    assert.equal(q.usage.instances, 1);
  });

  it('gives back what a rollout that never becomes healthy was admitted, and keeps what the live release needs', async () => {
    /** The Node example with its own manifest: `healthy` or answering 404 to its health check. */
    const app = (healthy: boolean, disk: string) => {
      const dir = mkdtempSync(join(work, 'app-'));
      cpSync(join(EXAMPLES, 'node-hello'), dir, { recursive: true });
      writeFileSync(
        join(dir, 'manifest.yml'),
        `applications:\n- name: flaky\n  memory: 128M\n  disk_quota: ${disk}\n  health-check-type: http\n  health-check-http-endpoint: ${healthy ? '/healthz\n' : '/no-such-page\n  timeout: 2\n'}`,
      );
      return dir;
    };
    /** What the service holds on every farm: slots and disk. */
    const held = async () => {
      const farms = (await api('GET', '/farms')).json.items as { reserved: { storageMb: number } }[];
      const quota = (await api('GET', `/departments/${DEPT}/quota`)).json.usage;
      return {
        instances: quota.instances as number,
        memoryMb: quota.memoryMb as number,
        storageMb: farms.reduce((sum, f) => sum + f.reserved.storageMb, 0),
      };
    };
    const others = await held();
    assert.equal(
      (
        await api('POST', '/services', {
          department: DEPT,
          slug: 'flaky',
          nameEn: 'Flaky',
          nameZh: '不穩',
          origin: 'new',
          channels: ['web'],
          slaTier: 'silver',
        })
      ).status,
      201,
    );

    // A first release that never becomes healthy: nothing serves, nothing stays reserved.
    const first = await deployDir(url, api, token, `${DEPT}/flaky`, app(false, '1G'));
    assert.equal(first.deployment.state, 'failed', first.deployment.message);
    assert.match(first.deployment.message, /did not become healthy/);
    assert.deepEqual(await held(), others);

    // A healthy release holds one 128 MB instance with a 512 MB disk.
    const good = await deployDir(url, api, token, `${DEPT}/flaky`, app(true, '512M'));
    assert.equal(good.deployment.state, 'succeeded', good.deployment.message);
    const live = await held();
    assert.deepEqual(live, {
      instances: others.instances + 1,
      memoryMb: others.memoryMb + 128,
      storageMb: others.storageMb + 512,
    });

    // The next release asks for a 2 GB disk and never becomes healthy: the live release keeps
    // exactly its own (512 MB), not the 2 GB admitted for the failed one.
    const bad = await deployDir(url, api, token, `${DEPT}/flaky`, app(false, '2G'));
    assert.equal(bad.deployment.state, 'failed', bad.deployment.message);
    assert.match(bad.deployment.message, /previous release is still serving/);
    assert.deepEqual(await held(), live);
    const page = await viaRouter(routerUrl, `flaky.${DEPT.toLowerCase()}.localhost`);
    assert.equal(page.status, 200);
  });
});
