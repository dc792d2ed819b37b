import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { InstanceStatus } from '../runtime.types.ts';
import { readProcStat } from './process-tree.ts';
import {
  Fixture,
  httpGet,
  makeSpec,
  NODE,
  pollUntil,
  running,
  SERVER_JS,
  waitForStatus,
} from './test-helpers.ts';
import { InstanceStartError } from './wait-healthy.ts';

const fx = new Fixture();
after(() => fx.cleanup());

describe('local supervisor: lifecycle', () => {
  const sup = fx.supervisor();

  it('starts an instance that becomes healthy and serves on its own loopback port', async () => {
    const dir = fx.workDir({ 'server.js': SERVER_JS });
    process.env.GOVHOST_TEST_PARENT_SECRET = 'must-not-leak';
    const spec = makeSpec(dir, `${NODE} server.js`, { env: { GREETING: 'hello' } });
    const started = await sup.start(spec);
    assert.equal(started.state, 'starting');
    assert.ok(started.pid && started.port >= 1024);

    const healthy = await sup.waitHealthy(spec.instanceId);
    assert.equal(healthy.state, 'healthy');
    assert.equal(healthy.pid, started.pid);
    assert.ok(healthy.healthyAt);
    const res = await httpGet(started.port, '/env');
    assert.equal(res.status, 200);
    const env = JSON.parse(res.body) as Record<string, string>;
    assert.equal(env.PORT, String(started.port));
    assert.equal(env.GREETING, 'hello');
    assert.equal(env.HOME, dir);
    assert.ok(env.PATH?.includes('/usr/bin'));
    assert.equal(env.GOVHOST_TEST_PARENT_SECRET, undefined, 'the control plane environment leaked');

    // The state record names the process by pid and start time, written atomically.
    const record = JSON.parse(readFileSync(join(fx.stateDir, `${spec.instanceId}.json`), 'utf8'));
    assert.equal(record.pid, started.pid);
    assert.equal(record.port, started.port);
    assert.equal(record.startTime, readProcStat(started.pid!)?.startTime);
    assert.deepEqual(record.spec, spec);

    const withMemory = await pollUntil(
      () => (sup.get(spec.instanceId)?.memoryBytes ? sup.get(spec.instanceId) : undefined),
      5000,
      'a memory sample',
    );
    assert.ok(withMemory.memoryBytes! > 1024 * 1024, `memory ${withMemory.memoryBytes}`);
    assert.deepEqual(
      sup.list().map((s) => s.instanceId),
      [spec.instanceId],
    );
    await sup.stop(spec.instanceId, 2000);
  });

  it('restarts an instance killed with -9 on the same port, quickly', async () => {
    const spec = makeSpec(fx.workDir({ 'server.js': SERVER_JS }), `${NODE} server.js`);
    const first = await sup.start(spec);
    await sup.waitHealthy(spec.instanceId);

    const killedAt = performance.now();
    process.kill(-first.pid!, 'SIGKILL'); // the whole instance: its shell and its server
    const back = await pollUntil(
      async () => ((await httpGet(first.port, '/', 200)).status === 200 ? performance.now() : undefined),
      10_000,
      'the port to serve again',
    );
    const status = await waitForStatus(sup, spec.instanceId, (s) => s.state === 'healthy', 10_000, 'healthy');
    console.log(`# recovery after kill -9: ${(back - killedAt).toFixed(0)} ms to the next HTTP 200`);
    assert.equal(status.port, first.port);
    assert.equal(status.restarts, 1);
    assert.notEqual(status.pid, first.pid);
    assert.equal(status.lastExit?.signal, 'SIGKILL');
    assert.match((await httpGet(first.port)).body, /^pid \d+$/);
    assert.ok(!running(first.pid!));

    // Killing only the shell leaves its server running and holding the port: the supervisor
    // must end that leftover before the restart can bind the port again.
    const server = readProcStat(status.pid!) && childOf(status.pid!);
    process.kill(status.pid!, 'SIGKILL');
    const again = await waitForStatus(
      sup,
      spec.instanceId,
      (s) => s.state === 'healthy' && s.restarts === 2,
      10_000,
      'healthy after the second kill',
    );
    assert.equal(again.port, first.port);
    if (server) assert.ok(!running(server), 'the old server survived');
    assert.equal((await httpGet(first.port)).body, `pid ${childOf(again.pid!)}`);
    await sup.stop(spec.instanceId, 2000);
  });

  it('backs off, then reports crash-loop, for a command that exits at once', async () => {
    const dir = fx.workDir({});
    const spec = makeSpec(dir, 'echo "boom: DATABASE_URL is not set" >&2; exit 3');
    const seen: InstanceStatus[] = [];
    const onChange = (s: InstanceStatus) => {
      if (s.instanceId === spec.instanceId) seen.push(s);
    };
    sup.on('change', onChange);
    await sup.start(spec);

    const err = await sup.waitHealthy(spec.instanceId).then(
      () => assert.fail('it became healthy'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof InstanceStartError);
    assert.equal(err.reason, 'exited');
    assert.match(err.message, /exited with code 3 before it was healthy/);
    assert.match(err.message, /boom: DATABASE_URL is not set/);

    const loop = await waitForStatus(
      sup,
      spec.instanceId,
      (s) => s.state === 'crash-loop',
      15_000,
      'crash-loop',
    );
    assert.ok(loop.restarts >= 2);
    const later = await waitForStatus(
      sup,
      spec.instanceId,
      (s) => s.restarts > loop.restarts,
      15_000,
      'a restart in crash-loop',
    );
    sup.off('change', onChange);
    assert.equal(later.lastExit?.code, 3);
    const states = seen.map((s) => s.state);
    assert.ok(
      states.indexOf('backoff') >= 0 && states.indexOf('backoff') < states.indexOf('crash-loop'),
      `${states}`,
    );
    // The waits grow: the third restart comes at least 1 s after the second (0, 0.5 s, 1 s…).
    const restartAt = (n: number) => seen.find((s) => s.restarts === n && s.pid !== null)?.startedAt;
    const gap = Date.parse(restartAt(3) ?? '') - Date.parse(restartAt(2) ?? '');
    assert.ok(gap >= 950, `gap between restarts 2 and 3: ${gap} ms`);
    // Already waiting to restart: waitHealthy says so at once rather than waiting.
    await assert.rejects(sup.waitHealthy(spec.instanceId, 60_000), /exited with code 3/);
    await sup.stop(spec.instanceId, 1000);
  });

  it('rejects waitHealthy with "not healthy within" when the health endpoint answers 500', async () => {
    const dir = fx.workDir({ 'server.js': SERVER_JS, sick: '' });
    const spec = makeSpec(dir, `${NODE} server.js`, {
      healthCheck: { type: 'http', endpoint: '/healthz', startTimeoutSec: 1.5, intervalMs: 100 },
    });
    await sup.start(spec);
    const err = await sup.waitHealthy(spec.instanceId).then(
      () => assert.fail('it became healthy'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof InstanceStartError);
    assert.equal(err.reason, 'timeout');
    assert.match(err.message, /was not healthy within 1\.5 s \(last check: GET \/healthz answered 500\)/);
    assert.match(err.message, /listening on \d+/);
    await waitForStatus(
      sup,
      spec.instanceId,
      (s) => s.state === 'unhealthy',
      5000,
      'unhealthy after the start timeout',
    );
    // Running but failing is not a crash: no restarts.
    assert.equal(sup.get(spec.instanceId)?.restarts, 0);
    await sup.stop(spec.instanceId, 1000);
  });

  it('turns unhealthy after failing checks, and healthy again when they pass', async () => {
    const dir = fx.workDir({ 'server.js': SERVER_JS });
    const spec = makeSpec(dir, `${NODE} server.js`, {
      healthCheck: { type: 'http', endpoint: '/healthz', startTimeoutSec: 20, intervalMs: 50 },
    });
    await sup.start(spec);
    const healthy = await sup.waitHealthy(spec.instanceId);
    writeFileSync(join(dir, 'sick'), '');
    const sick = await waitForStatus(sup, spec.instanceId, (s) => s.state === 'unhealthy', 5000, 'unhealthy');
    rmSync(join(dir, 'sick'));
    const well = await waitForStatus(
      sup,
      spec.instanceId,
      (s) => s.state === 'healthy',
      5000,
      'healthy again',
    );
    assert.equal(sick.pid, healthy.pid);
    assert.equal(well.pid, healthy.pid);
    assert.equal(well.restarts, 0);
    await sup.stop(spec.instanceId, 1000);
  });

  it('supports port and process health checks', async () => {
    for (const type of ['port', 'process'] as const) {
      const spec = makeSpec(fx.workDir({ 'server.js': SERVER_JS }), `${NODE} server.js`, {
        healthCheck: { type, endpoint: '', startTimeoutSec: 20, intervalMs: 100 },
      });
      await sup.start(spec);
      const s = await sup.waitHealthy(spec.instanceId);
      assert.equal(s.state, 'healthy', type);
      await sup.stop(spec.instanceId, 1000);
    }
  });

  it('refuses a spec that could escape its folders, and a duplicate id', async () => {
    const dir = fx.workDir({ 'server.js': SERVER_JS });
    await assert.rejects(sup.start(makeSpec(dir, 'true', { instanceId: '../etc/passwd' })), /instanceId/);
    await assert.rejects(sup.start(makeSpec(dir, 'true', { workDir: 'relative' })), /workDir/);
    await assert.rejects(sup.start(makeSpec('/no/such/folder', 'true')), /cannot start .*ENOENT/);
    const spec = makeSpec(dir, `${NODE} server.js`);
    await sup.start(spec);
    await assert.rejects(sup.start(spec), /already supervised/);
    await sup.stop(spec.instanceId, 1000);
    assert.equal(existsSync(join(fx.stateDir, `${spec.instanceId}.json`)), false);
  });
});

/** The first child of a process (the server the shell started), from /proc. */
function childOf(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text ? Number(text.split(/\s+/)[0]) : undefined;
  } catch {
    return undefined;
  }
}
