import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TS_NODE_ARGS } from '../platform/ts-loader.ts';
import { BackendRegistry } from './balancer.ts';
import { hostOf } from './headers.ts';
import { silentLog } from './log.ts';
import { emptyRaw, record, summarise, summariseAll } from './metrics.ts';
import { resolveOptions } from './options.ts';
import { RouteStore, writeAtomically } from './route-store.ts';
import { parseRouteTable } from './route-validate.ts';
import { routerOptionsFromEnv } from './router-config.ts';

describe('hostOf', () => {
  test('strips the port, lower-cases, drops a final dot', () => {
    assert.equal(hostOf('eTax.IRD.localhost:8080'), 'etax.ird.localhost');
    assert.equal(hostOf('example.gov.'), 'example.gov');
    assert.equal(hostOf('[::1]:8080'), '[::1]');
    assert.equal(hostOf(undefined), '');
  });
});

describe('parseRouteTable', () => {
  test('accepts a valid table and returns a clean copy', () => {
    const r = parseRouteTable({
      version: 3,
      routes: [
        {
          hostname: 'a.localhost',
          service: 'D/a',
          kind: 'proxy',
          backends: [{ id: 'i1', url: 'http://127.0.0.1:4000' }],
        },
        { hostname: 'b.localhost', service: 'D/b', kind: 'static', backends: [], staticRoot: '/srv/b' },
      ],
    });
    assert.ok(r.ok);
    assert.equal(r.table.routes.length, 2);
  });

  test('an instance id must name one address across routes', () => {
    const r = parseRouteTable({
      version: 1,
      routes: [
        {
          hostname: 'a.localhost',
          service: 'D/a',
          kind: 'proxy',
          backends: [{ id: 'i', url: 'http://127.0.0.1:1' }],
        },
        {
          hostname: 'b.localhost',
          service: 'D/a',
          kind: 'proxy',
          backends: [{ id: 'i', url: 'http://127.0.0.1:2' }],
        },
      ],
    });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.errors.join() : '', /two addresses/);
  });

  test('names unknown fields and bad versions', () => {
    const r = parseRouteTable({ version: -1, routes: [], extra: true });
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.errors, [
      'table: unknown field "extra"',
      'version: must be a whole number >= 0, got -1',
    ]);
  });
});

describe('metrics', () => {
  test('percentiles come from the histogram; classes count by status', () => {
    const m = emptyRaw();
    for (let i = 0; i < 98; i++) record(m, 200, 1.5, 10, 100);
    record(m, 404, 40, 0, 50);
    record(m, 502, 900, 0, 50);
    const s = summarise(m);
    assert.deepEqual(s.requests, { total: 100, '1xx': 0, '2xx': 98, '3xx': 0, '4xx': 1, '5xx': 1 });
    assert.ok(s.latencyMs.p50 > 1 && s.latencyMs.p50 <= 2, `p50 ${s.latencyMs.p50}`);
    assert.ok(s.latencyMs.p99 >= 30 && s.latencyMs.p99 <= 50, `p99 ${s.latencyMs.p99}`);
    assert.equal(s.bytesOut, 9900);
  });

  test('snapshots from several workers add up', () => {
    const a = emptyRaw();
    const b = emptyRaw();
    record(a, 200, 1, 0, 0);
    record(b, 500, 1, 0, 0);
    const all = summariseAll([{ 'D/x': a }, { 'D/x': b, 'D/y': b }]);
    assert.equal(all['D/x']!.requests.total, 2);
    assert.equal(all['D/y']!.requests['5xx'], 1);
  });
});

describe('BackendRegistry', () => {
  test('keeps state across tables and reports a removed backend until its work ends', () => {
    const reg = new BackendRegistry({ maxSocketsPerBackend: 4, connectTimeoutMs: 1000, passiveDownMs: 1000 });
    try {
      const first = reg.apply([{ id: 'x', url: 'http://127.0.0.1:1' }]).get('x')!;
      first.inflight = 1;
      assert.equal(reg.apply([{ id: 'x', url: 'http://127.0.0.1:1' }]).get('x'), first);
      reg.apply([]);
      assert.deepEqual(reg.inflight(), { x: { requests: 1, websockets: 0 } });
      first.inflight = 0;
      reg.released(first);
      assert.deepEqual(reg.inflight(), {});
    } finally {
      reg.destroy();
    }
  });
});

describe('RouteStore', () => {
  test('persists atomically, refuses older versions, reloads the last table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'govhost-store-'));
    try {
      const path = join(dir, 'nested', 'routes.json');
      const store = new RouteStore(path, silentLog);
      await store.load();
      const table = { version: 5, routes: [] };
      assert.equal(await store.update(table), 'applied');
      assert.equal(await store.update({ version: 4, routes: [] }), 'stale');
      assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), table);
      // No temp files left beside it.
      assert.deepEqual(readdirSync(join(dir, 'nested')), ['routes.json']);
      const again = new RouteStore(path, silentLog);
      assert.equal((await again.load()).version, 5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the temp file is created exclusively: a planted symlink at its name is not followed', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'govhost-store-'));
    try {
      const path = join(dir, 'routes.json');
      const victim = join(dir, 'victim');
      writeFileSync(victim, 'untouched');
      // The temp name is predictable (pid and time): plant a symlink where the next write opens.
      const now = Date.now();
      t.mock.method(Date, 'now', () => now);
      symlinkSync(victim, join(dir, `.routes.json.${process.pid}.${now}.tmp`));
      await assert.rejects(writeAtomically(path, '{"version":1,"routes":[]}'), { code: 'EEXIST' });
      assert.equal(readFileSync(victim, 'utf8'), 'untouched');
      assert.ok(!existsSync(path));
      t.mock.restoreAll();
      await writeAtomically(path, '{"version":1,"routes":[]}');
      assert.equal(statSync(path).mode & 0o777, 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a corrupt state file is moved aside and the router starts empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'govhost-store-'));
    try {
      const path = join(dir, 'routes.json');
      writeFileSync(path, '{"version": 2, "routes": [');
      const store = new RouteStore(path, silentLog);
      assert.equal((await store.load()).version, 0);
      assert.ok(readdirSync(dir).some((f) => f.startsWith('routes.json.invalid-')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('routerOptionsFromEnv', () => {
  test('defaults and checks', () => {
    const o = routerOptionsFromEnv({ GOVHOST_ROUTER_ADMIN_TOKEN: 'a'.repeat(16) });
    assert.equal(o.host, '127.0.0.1');
    assert.equal(o.port, 8080);
    assert.equal(o.adminPort, 8081);
    assert.throws(
      () =>
        routerOptionsFromEnv({ GOVHOST_ROUTER_ADMIN_TOKEN: 'short', GOVHOST_ROUTER_ADMIN_HOST: '0.0.0.0' }),
      /must be a loopback address[\s\S]*at least 16 characters/,
    );
  });

  test('trusted proxies are addresses or networks; the old boolean stops the start, naming the new variable', () => {
    const token = { GOVHOST_ROUTER_ADMIN_TOKEN: 'a'.repeat(16) };
    assert.deepEqual(routerOptionsFromEnv(token).trustedProxies, []);
    const o = routerOptionsFromEnv({
      ...token,
      GOVHOST_ROUTER_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7,fd00::/8',
    });
    assert.deepEqual(o.trustedProxies, ['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
    assert.throws(
      () => routerOptionsFromEnv({ ...token, GOVHOST_ROUTER_TRUSTED_PROXIES: '10.0.0.0/33' }),
      /GOVHOST_ROUTER_TRUSTED_PROXIES has "10\.0\.0\.0\/33"/,
    );
    for (const old of ['true', 'false', '']) {
      assert.throws(
        () => routerOptionsFromEnv({ ...token, GOVHOST_ROUTER_TRUST_FORWARDED: old }),
        /GOVHOST_ROUTER_TRUST_FORWARDED is no longer read[\s\S]*GOVHOST_ROUTER_TRUSTED_PROXIES/,
      );
    }
  });
});

describe('routerOptionsFromEnv: following the control plane', () => {
  const base = { GOVHOST_ROUTER_ADMIN_TOKEN: 'a'.repeat(16), GOVHOST_ROUTER_CONTROL_PLANE_TOKEN: 'ghk_x' };
  test('http only to a loopback host: the token and the table must not travel in clear', () => {
    for (const url of ['http://api.gov.example:7070', 'http://10.0.0.5:7070', 'http://[fd00::1]:7070']) {
      assert.throws(
        () => routerOptionsFromEnv({ ...base, GOVHOST_ROUTER_CONTROL_PLANE: url }),
        /GOVHOST_ROUTER_CONTROL_PLANE must be https unless its host is loopback/,
        url,
      );
    }
    for (const url of [
      'https://api.gov.example',
      'http://127.0.0.1:7070',
      'http://localhost:7070',
      'http://[::1]:7070',
    ]) {
      assert.equal(
        routerOptionsFromEnv({ ...base, GOVHOST_ROUTER_CONTROL_PLANE: url }).controlPlane?.url,
        url,
      );
    }
    // startRouter refuses it too, for callers that do not go through the environment.
    assert.throws(
      () =>
        resolveOptions({
          adminToken: 'a'.repeat(16),
          controlPlane: { url: 'http://api.gov.example', token: 'ghk_x' },
        }),
      /controlPlane\.url must be https unless its host is loopback/,
    );
  });

  test('GOVHOST_ROUTER_STATIC_ROOT: an absolute folder, only with a control plane', () => {
    const cp = { ...base, GOVHOST_ROUTER_CONTROL_PLANE: 'https://api.gov.example' };
    assert.equal(routerOptionsFromEnv(cp).controlPlane?.staticRoot, null);
    assert.equal(
      routerOptionsFromEnv({ ...cp, GOVHOST_ROUTER_STATIC_ROOT: '/srv/govhost/apps/' }).controlPlane
        ?.staticRoot,
      '/srv/govhost/apps',
    );
    assert.throws(
      () => routerOptionsFromEnv({ ...cp, GOVHOST_ROUTER_STATIC_ROOT: 'apps' }),
      /GOVHOST_ROUTER_STATIC_ROOT must be an absolute folder path/,
    );
    assert.throws(
      () =>
        routerOptionsFromEnv({
          GOVHOST_ROUTER_ADMIN_TOKEN: 'a'.repeat(16),
          GOVHOST_ROUTER_STATIC_ROOT: '/srv',
        }),
      /GOVHOST_ROUTER_STATIC_ROOT is set but GOVHOST_ROUTER_CONTROL_PLANE is not/,
    );
  });
});

describe('installCrashGuard', () => {
  test('an escaped exception drains the process, then exits 1', () => {
    const script = `
      import { installCrashGuard } from './src/router/crash-guard.ts';
      import { silentLog } from './src/router/log.ts';
      installCrashGuard(silentLog, async () => { console.log('drained'); }, 100);
      setTimeout(() => { throw new Error('a bug'); }, 0);
    `;
    const r = spawnSync(process.execPath, [...TS_NODE_ARGS, '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.stdout.trim(), 'drained');
    assert.equal(r.status, 1);
  });
});
