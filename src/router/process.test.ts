import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TS_NODE_ARGS } from '../platform/ts-loader.ts';
import { admin, ask, proxyRoute, startBackend, type TestBackend, TOKEN, waitFor } from './testing.ts';

const root = new URL('../..', import.meta.url).pathname;

interface RouterProcess {
  child: ChildProcess;
  port: number;
  adminPort: number;
  stderr: () => string;
}

/** Starts `node --import ./bin/ts-loader.mjs src/router/main.ts` and waits for its ready line. */
async function spawnRouter(env: Record<string, string>): Promise<RouterProcess> {
  const child = spawn(process.execPath, [...TS_NODE_ARGS, 'src/router/main.ts'], {
    cwd: root,
    env: { ...process.env, GOVHOST_ROUTER_PORT: '0', GOVHOST_ROUTER_ADMIN_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  let out = '';
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 20 s; stderr: ${err}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.slice(0, out.indexOf('\n')));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`router exited with ${code}: ${err}`));
    });
  });
  const ready = JSON.parse(line);
  assert.equal(ready.msg, 'router ready');
  assert.ok(ready.port > 0 && ready.adminPort > 0);
  return { child, port: ready.port, adminPort: ready.adminPort, stderr: () => err };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stop(p: RouterProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.child.exitCode;
  const exited = once(p.child, 'exit');
  p.child.kill(signal);
  const [code] = await exited;
  return code as number | null;
}

describe('router process', () => {
  let backend: TestBackend;
  let dir: string;
  const running: RouterProcess[] = [];

  before(async () => {
    backend = await startBackend('proc');
    dir = mkdtempSync(join(tmpdir(), 'govhost-router-proc-'));
  });
  after(async () => {
    for (const p of running) await stop(p, 'SIGKILL');
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (state: string, extra: Record<string, string> = {}) => ({
    GOVHOST_ROUTER_ADMIN_TOKEN: TOKEN,
    GOVHOST_ROUTER_STATE: join(dir, state),
    ...extra,
  });

  test('after SIGKILL, a restarted router serves the last routes without being told again', async () => {
    const first = await spawnRouter(env('killed.json', { GOVHOST_ROUTER_WORKERS: '2' }));
    running.push(first);
    const workers: number[] = (await admin(first, 'GET', '/healthz')).body.workers;
    assert.equal(workers.length, 2);
    const table = {
      version: 7,
      routes: [proxyRoute('svc.test.localhost', [{ id: 'p1', url: backend.url }])],
    };
    assert.equal((await admin(first, 'PUT', '/routes', table)).status, 200);
    assert.equal((await ask(first.port, { host: 'svc.test.localhost' })).status, 200);
    assert.equal(JSON.parse(readFileSync(join(dir, 'killed.json'), 'utf8')).version, 7);
    assert.equal(await stop(first, 'SIGKILL'), null);
    // Its workers notice the primary is gone and leave: no orphan keeps serving old routes.
    await waitFor(
      () => workers.every((pid) => !alive(pid)),
      10_000,
      'the workers of the killed router to exit',
    );

    const second = await spawnRouter(env('killed.json'));
    running.push(second);
    const r = await ask(second.port, { host: 'svc.test.localhost' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).id, 'proc');
    assert.equal((await admin(second, 'GET', '/routes')).body.version, 7);
    assert.equal(await stop(second, 'SIGTERM'), 0);
  });

  test('SIGTERM lets a request in flight finish, then exits 0 (single process)', async () => {
    const release: (() => void)[] = [];
    const slow = await startBackend('slow', (_req, res) => release.push(() => res.end('finished')));
    try {
      const p = await spawnRouter(env('term.json', { GOVHOST_ROUTER_WORKERS: '0' }));
      running.push(p);
      const table = {
        version: 1,
        routes: [proxyRoute('slow.test.localhost', [{ id: 's1', url: slow.url }])],
      };
      await admin(p, 'PUT', '/routes', table);
      const pending = ask(p.port, { host: 'slow.test.localhost' });
      await waitFor(() => release.length === 1, 5000, 'the request to reach the backend');
      const exited = once(p.child, 'exit');
      p.child.kill('SIGTERM');
      await waitFor(() => p.stderr().includes('router stopping'), 5000, 'the router to start stopping');
      release[0]!();
      const reply = await pending;
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'finished');
      assert.deepEqual(await exited, [0, null]);
    } finally {
      await slow.close();
    }
  });

  test('cluster mode: workers share the port, metrics add up, SIGTERM exits 0', async () => {
    const p = await spawnRouter(env('cluster.json', { GOVHOST_ROUTER_WORKERS: '2' }));
    running.push(p);
    const table = {
      version: 3,
      routes: [proxyRoute('multi.test.localhost', [{ id: 'm1', url: backend.url }])],
    };
    assert.equal((await admin(p, 'PUT', '/routes', table)).status, 200);
    // The PUT answers once both workers route by the new table: no request may miss it after.
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => ask(p.port, { host: 'multi.test.localhost' })),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      Array(10).fill(200),
    );
    const m = (await admin(p, 'GET', '/metrics')).body.services['TEST/multi'];
    assert.ok(m.requests['2xx'] >= 10);
    assert.deepEqual((await admin(p, 'GET', '/inflight')).body.backends.m1, { requests: 0, websockets: 0 });
    // The workers parse citizens' bytes: their environment (as the kernel started them) holds
    // none of the router's secrets, which the primary read and then dropped before forking.
    const workers = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((n) => {
        try {
          return (
            readFileSync(`/proc/${n}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(p.child.pid)
          );
        } catch {
          return false; // a process that ended while we looked
        }
      });
    assert.equal(workers.length, 2, 'two workers found');
    for (const pid of workers) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      assert.ok(
        environ.some((e) => e.startsWith('GOVHOST_ROUTER_WORKER')),
        'a worker was read',
      );
      assert.equal(environ.filter((e) => /^GOVHOST_ROUTER_(ADMIN|CONTROL_PLANE)_TOKEN=/.test(e)).length, 0);
    }
    assert.equal(await stop(p, 'SIGTERM'), 0);
  });

  test('cluster mode: every worker serves static sites through a file server of its own', async () => {
    // Each worker forwards static requests, with its own random key, to its own file server.
    // Those servers once shared a port (a plain listen(0) in a cluster worker), so a worker's
    // connection could land on a sibling's server and get 403 for as long as it was kept alive.
    const site = join(dir, 'site');
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, 'index.html'), '<h1>Static</h1>');
    const p = await spawnRouter(env('static.json', { GOVHOST_ROUTER_WORKERS: '2' }));
    running.push(p);
    const route = {
      hostname: 'www.test.localhost',
      service: 'TEST/www',
      kind: 'static',
      backends: [],
      staticRoot: site,
    };
    assert.equal((await admin(p, 'PUT', '/routes', { version: 1, routes: [route] })).status, 200);
    // Concurrent requests make each worker open several connections to the file servers; the
    // second round goes over the connections the first one left in the workers' pools.
    for (let round = 0; round < 2; round++) {
      const replies = await Promise.all(
        Array.from({ length: 16 }, () => ask(p.port, { host: 'www.test.localhost' })),
      );
      const statuses = replies.map((r) => r.status);
      assert.deepEqual(statuses, Array(16).fill(200), `round ${round + 1}: ${statuses.join(' ')}`);
      assert.ok(replies.every((r) => r.body === '<h1>Static</h1>'));
    }
    assert.equal(await stop(p, 'SIGTERM'), 0);
  });

  test('refuses to start with bad settings, naming each', async () => {
    const child = spawn(process.execPath, [...TS_NODE_ARGS, 'src/router/main.ts'], {
      cwd: root,
      env: { ...process.env, GOVHOST_ROUTER_PORT: 'eighty', GOVHOST_ROUTER_ADMIN_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(err, /GOVHOST_ROUTER_PORT must be a whole number/);
    assert.match(err, /GOVHOST_ROUTER_ADMIN_TOKEN must be set/);
  });
});
