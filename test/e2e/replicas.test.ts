// test-seconds: 86
// test-store: postgres
// Control-plane replicas on one PostgreSQL, end to end: three `govhost server` processes behind
// HAProxy (the API balancer operators would run), sharing one data folder as replicas on one host
// do; the router they run, and an edge router fed by the route stream through HAProxy. The runtime
// lease's holder is killed with SIGKILL under steady API calls and citizen traffic through both
// routers, then every replica is restarted in turn under a steady 10 req/s API load.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { TS_NODE_ARGS } from '../../src/platform/ts-loader.ts';
import { TEST_STORE } from '../../src/test-support/database.ts';
import { freePort } from '../../src/test-support/free-port.ts';
import { stopLeftServices } from '../../src/test-support/left-services.ts';
import {
  cleanEnv,
  type GovhostProcess,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import { until } from '../../src/test-support/until.ts';
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

const adminUrl = process.env.GOVHOST_TEST_DATABASE_URL;
const haproxy = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
})();
const skip =
  TEST_STORE !== 'postgres' || !adminUrl
    ? 'replicas share a PostgreSQL: set GOVHOST_TEST_DATABASE_URL'
    : !haproxy
      ? 'needs HAProxy as the API balancer (apt-get install haproxy; .ci/run installs it)'
      : false;

const EXAMPLES = fileURLToPath(new URL('../../examples/apps/', import.meta.url));
const DEPT = 'HA';
const HOST = `hello.${DEPT.toLowerCase()}.localhost`;

interface Replica {
  name: string;
  port: number;
  proc: GovhostProcess | null;
}

describe('control-plane replicas behind HAProxy', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'govhost-replicas-e2e-'));
  const dbName = `govhost_test_${randomBytes(6).toString('hex')}`;
  let balancer: ChildProcess | null = null;
  let statsUrl = '';
  let apiUrl = '';
  let routerUrl = '';
  /** A second router that follows the control plane's route stream through HAProxy (decision 023). */
  let edge: ChildProcess | null = null;
  let edgeUrl = '';
  let token = '';
  let api: Api;
  let baseEnv: NodeJS.ProcessEnv;
  const replicas: Replica[] = [];
  let db: pg.Client;

  const start = async (r: Replica) => {
    const s = await startServer({ ...baseEnv, GOVHOST_PORT: String(r.port) });
    r.proc = s.proc;
    return s;
  };
  const direct = (r: Replica) => apiClient(`http://127.0.0.1:${r.port}`, token);
  const holderPid = async () => {
    const row = await db.query(`select holder from leases where name = 'runtime' and expires_at > now()`);
    return row.rows[0] ? Number(String(row.rows[0].holder).split(':')[1]) : null;
  };
  /** HAProxy's view of a replica: UP once its health checks pass. */
  const upInBalancer = async (name: string) => {
    const csv = await (await fetch(statsUrl)).text();
    return csv.split('\n').some((l) => l.startsWith(`replicas,${name},`) && l.split(',')[17] === 'UP');
  };

  before(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const url = new URL(adminUrl!);
    url.pathname = `/${dbName}`;
    db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    baseEnv = cleanEnv({
      DATABASE_URL: url.toString(),
      GOVHOST_DATA_DIR: join(work, 'data'),
      GOVHOST_ROUTER_PORT: String(await freePort()),
      GOVHOST_ROUTER_ADMIN_PORT: String(await freePort()),
      GOVHOST_PROBE_INTERVAL_MS: '1000',
      GOVHOST_LOG_LEVEL: 'info',
    });
    for (const name of ['a', 'b', 'c']) replicas.push({ name, port: await freePort(), proc: null });
    const apiPort = await freePort();
    const statsPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    statsUrl = `http://127.0.0.1:${statsPort}/stats;csv`;
    const cfg = join(work, 'haproxy.cfg');
    writeFileSync(
      cfg,
      [
        'global',
        '  maxconn 512',
        'defaults',
        '  mode http',
        '  timeout connect 1s',
        '  timeout client 30s',
        '  timeout server 30s',
        // A request whose replica refused the connection, died before answering, or is closing
        // (Fastify answers 503 to a request that arrives while it closes) goes to another.
        '  retries 3',
        '  option redispatch 1',
        '  retry-on conn-failure empty-response 503',
        '  option http-server-close',
        'frontend api',
        `  bind 127.0.0.1:${apiPort}`,
        '  default_backend replicas',
        'frontend stats',
        `  bind 127.0.0.1:${statsPort}`,
        '  stats enable',
        '  stats uri /stats',
        'backend replicas',
        '  balance roundrobin',
        '  option httpchk GET /healthz',
        '  default-server inter 300 fall 2 rise 1',
        ...replicas.map((r) => `  server ${r.name} 127.0.0.1:${r.port} check`),
        '',
      ].join('\n'),
    );
    balancer = spawn(haproxy!, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    // The first replica creates the store's admin; the others start on the migrated store.
    const first = await start(replicas[0]!);
    token = first.token!;
    routerUrl = first.routerUrl!;
    await Promise.all(replicas.slice(1).map(start));
    await until(
      'every replica up in HAProxy',
      async () => (await Promise.all(replicas.map((r) => upInBalancer(r.name)))).every(Boolean),
      30_000,
    );
    api = apiClient(apiUrl, token);
    // The edge router follows with a router token (it reads the route table and nothing else).
    const routerToken = await api('POST', '/tokens/router', { name: 'edge' });
    assert.equal(routerToken.status, 201, JSON.stringify(routerToken.json));
    const edgePort = await freePort();
    edgeUrl = `http://127.0.0.1:${edgePort}`;
    const main = fileURLToPath(new URL('../../src/router/main.ts', import.meta.url));
    edge = spawn(process.execPath, [...TS_NODE_ARGS, main], {
      env: cleanEnv({
        GOVHOST_ROUTER_PORT: String(edgePort),
        GOVHOST_ROUTER_ADMIN_PORT: String(await freePort()),
        GOVHOST_ROUTER_ADMIN_TOKEN: randomBytes(24).toString('base64url'),
        GOVHOST_ROUTER_STATE: join(work, 'edge', 'routes.json'),
        GOVHOST_ROUTER_WORKERS: '0',
        GOVHOST_ROUTER_CONTROL_PLANE: apiUrl,
        GOVHOST_ROUTER_CONTROL_PLANE_TOKEN: routerToken.json.secret,
      }),
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let edgeOut = '';
    edge.stdout?.setEncoding('utf8').on('data', (d: string) => (edgeOut += d));
    await until('the edge router ready', () => edgeOut.includes('"router ready"'), 30_000);
    assert.equal(
      (await api('POST', '/departments', { code: DEPT, nameEn: 'HA', nameZh: '高可用' })).status,
      201,
    );
  });

  after(async () => {
    closeAgent();
    for (const r of replicas) if (r.proc) await stopProcess(r.proc);
    // The last replica left instances and the router running for the next holder: stop them.
    await stopLeftServices(join(work, 'data'));
    edge?.kill('SIGTERM');
    balancer?.kill('SIGTERM');
    await db?.end();
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs work queued through any replica on the runtime lease holder', async () => {
    const holder = await holderPid();
    assert.equal(holder, replicas[0]!.proc!.pid, 'the first replica holds the runtime lease');
    const [, b, c] = replicas;
    await createService(direct(b!), DEPT, 'hello');
    const dir = mkdtempSync(join(work, 'app-'));
    cpSync(join(EXAMPLES, 'node-hello'), dir, { recursive: true });
    // Deployed through a replica that does not run the runtime: the holder picks the row up.
    const { deployment } = await deployDir(
      `http://127.0.0.1:${b!.port}`,
      direct(b!),
      token,
      `${DEPT}/hello`,
      dir,
    );
    assert.equal(deployment.state, 'succeeded', deployment.message);
    await untilServed(routerUrl, HOST, (r) => r.status === 200);
    // The edge router has it from the stream, a second at most after the holder's router.
    await untilServed(edgeUrl, HOST, (r) => r.status === 200, 1_000);
    // Scaled through the third; its status, read from what the holder publishes, shows both.
    const scale = await direct(c!)('POST', `/services/${DEPT}/hello/scale`, { instances: 2 });
    assert.equal(scale.status, 202, JSON.stringify(scale.json));
    assert.equal((await waitDeployment(direct(c!), `${DEPT}/hello`, scale.json.id)).state, 'succeeded');
    const status = await until('two serving instances seen by a non-holder', async () => {
      const s = await direct(b!)('GET', `/services/${DEPT}/hello/status`);
      return (
        s.json.instances.filter(
          (i: { serving: boolean; state: string }) => i.serving && i.state === 'healthy',
        ).length === 2 && s.json
      );
    });
    assert.equal(status.desired.instances, 2);
  });

  it('survives kill -9 of the lease holder: no citizen request fails, probes resume within 10 s', async () => {
    const holder = replicas.find((r) => r.proc?.pid === replicas[0]!.proc!.pid)!;
    let stop = false;
    const citizen = { ok: 0, failed: [] as string[] };
    const apiCalls = { ok: 0, failed: [] as string[] };
    const citizens = (async () => {
      while (!stop) {
        for (const via of [routerUrl, edgeUrl]) {
          const r = await viaRouter(via, HOST).catch((e: Error) => ({ status: 0, body: e.message }));
          if (r.status === 200) citizen.ok++;
          else citizen.failed.push(`${via} ${r.status} ${r.body.slice(0, 80)}`);
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    const calls = (async () => {
      while (!stop) {
        const r = await api('GET', `/services/${DEPT}/hello/status`).catch((e: Error) => ({
          status: 0,
          json: e.message,
        }));
        if (r.status === 200) apiCalls.ok++;
        else apiCalls.failed.push(`${r.status} ${JSON.stringify(r.json).slice(0, 120)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    await until('traffic flowing', () => citizen.ok > 10 && apiCalls.ok > 3);
    const killedAt = Date.now();
    holder.proc!.child.kill('SIGKILL');
    await holder.proc!.closed;
    holder.proc = null;
    const newHolder = await until(
      'another replica to take the runtime lease',
      async () => {
        const pid = await holderPid();
        return pid ? replicas.find((r) => r.proc && r.proc.pid === pid) : null;
      },
      15_000,
      50,
    );
    const leaseMs = Date.now() - killedAt;
    const probe = await until(
      'a probe by the new holder',
      async () => {
        const m = await direct(newHolder)('GET', `/services/${DEPT}/hello/metrics`);
        const at = m.json?.current?.lastProbe?.at as number | undefined;
        return at && at > killedAt ? at : null;
      },
      20_000,
      50,
    );
    const probeMs = probe - killedAt;
    // Where the time went, from the new holder's own log.
    const steps = newHolder
      .proc!.out()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { time: number; msg: string })
      .filter((l) => l.time > killedAt && !/^(incoming request|request completed)$/.test(l.msg))
      .map((l) => `+${l.time - killedAt} ms ${l.msg}`);
    console.log(`takeover on the new holder:\n  ${steps.join('\n  ')}`);
    // Traffic goes on a moment after the takeover, through the adopted router and instances.
    const after = citizen.ok + 20;
    await until('citizen traffic after the takeover', () => citizen.ok > after);
    // And the new holder runs new work: a scale back to one instance.
    const scale = await api('POST', `/services/${DEPT}/hello/scale`, { instances: 1 });
    assert.equal(scale.status, 202, JSON.stringify(scale.json));
    assert.equal((await waitDeployment(api, `${DEPT}/hello`, scale.json.id)).state, 'succeeded');
    stop = true;
    await Promise.all([citizens, calls]);
    console.log(
      `failover: lease taken ${leaseMs} ms after kill -9, first probe ${probeMs} ms after; ` +
        `citizen requests ${citizen.ok} ok, ${citizen.failed.length} failed; API calls ${apiCalls.ok} ok, ${apiCalls.failed.length} failed`,
    );
    assert.deepEqual(citizen.failed, []);
    // HAProxy retries a request whose replica died under it: at most the one in flight may fail.
    assert.ok(apiCalls.failed.length <= 1, apiCalls.failed.join('\n'));
    assert.ok(probeMs < 10_000, `probes resumed after ${probeMs} ms`);
  });

  it('loses no request of a steady 10 req/s API load while every replica restarts in turn', async () => {
    // The replica killed above comes back first.
    const dead = replicas.find((r) => !r.proc)!;
    await start(dead);
    await until(`${dead.name} up in HAProxy`, () => upInBalancer(dead.name), 30_000);
    let stop = false;
    const load = { ok: 0, failed: [] as string[] };
    const calls = (async () => {
      for (let next = Date.now(); !stop; next += 100) {
        const r = await api('GET', `/services/${DEPT}/hello/status`).catch((e: Error) => ({
          status: 0,
          json: e.message,
        }));
        if (r.status === 200) load.ok++;
        else load.failed.push(`${r.status} ${JSON.stringify(r.json).slice(0, 120)}`);
        await new Promise((res) => setTimeout(res, Math.max(0, next + 100 - Date.now())));
      }
    })();
    for (const r of replicas) {
      await stopProcess(r.proc!);
      r.proc = null;
      await until(`${r.name} down in HAProxy`, async () => !(await upInBalancer(r.name)), 10_000);
      await start(r);
      await until(`${r.name} up in HAProxy`, () => upInBalancer(r.name), 30_000);
    }
    stop = true;
    await calls;
    console.log(`rolling restart: ${load.ok} API calls ok, ${load.failed.length} failed`);
    assert.deepEqual(load.failed, []);
    assert.ok(load.ok > 30);
    // The service kept running throughout, adopted by each new holder, on both routers.
    assert.equal((await viaRouter(routerUrl, HOST)).status, 200);
    assert.equal((await viaRouter(edgeUrl, HOST)).status, 200);
  });
});
