import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TS_NODE_ARGS } from '../../platform/ts-loader.ts';
import type { InstanceStatus } from '../runtime.types.ts';
import { LocalSupervisor } from './supervisor.ts';
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

const fixtures: Fixture[] = [];
const fixture = () => {
  const fx = new Fixture();
  fixtures.push(fx);
  return fx;
};
after(async () => {
  for (const fx of fixtures) await fx.cleanup();
});

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const supervisorModule = fileURLToPath(new URL('./supervisor.ts', import.meta.url));

/** A stand-in control plane: starts one instance, prints its status, then waits to be killed. */
const CONTROL_PLANE_MJS = `
const [, , modulePath, stateDir, logDir, specJson] = process.argv;
const { LocalSupervisor } = await import(modulePath);
const sup = new LocalSupervisor({ stateDir, logDir });
const spec = JSON.parse(specJson);
await sup.start(spec);
console.log(JSON.stringify(await sup.waitHealthy(spec.instanceId)));
setInterval(() => {}, 1000);
`;

describe('local supervisor: surviving the control plane', () => {
  it('adopts a running instance after detach, then restarts it as its own when it dies', async () => {
    const fx = fixture();
    const a = fx.supervisor();
    const spec = makeSpec(fx.workDir({ 'server.js': SERVER_JS }), `${NODE} server.js`);
    const first = await a.start(spec);
    await a.waitHealthy(spec.instanceId);
    a.detach();
    assert.equal((await httpGet(first.port)).status, 200, 'detach must not stop the instance');

    const b = fx.supervisor();
    const [adopted] = await b.recover();
    assert.equal(adopted?.pid, first.pid);
    assert.equal(adopted?.port, first.port);
    assert.equal((await b.waitHealthy(spec.instanceId)).state, 'healthy');

    process.kill(-first.pid!, 'SIGKILL');
    const restarted = await waitForStatus(
      b,
      spec.instanceId,
      (s) => s.state === 'healthy' && s.restarts === 1,
      10_000,
      'healthy after the restart',
    );
    assert.notEqual(restarted.pid, first.pid);
    assert.equal(restarted.port, first.port);
    assert.equal((await httpGet(first.port)).status, 200);
    // Now it is B's own child: a second crash is seen through the exit event.
    process.kill(-restarted.pid!, 'SIGKILL');
    await waitForStatus(
      b,
      spec.instanceId,
      (s) => s.state === 'healthy' && s.restarts === 2,
      10_000,
      'restart 2',
    );
    await b.stopAll(1000);
  });

  it('starts again, on its port, an instance that died while no supervisor ran', async () => {
    const fx = fixture();
    const a = fx.supervisor();
    const spec = makeSpec(fx.workDir({ 'server.js': SERVER_JS }), `${NODE} server.js`);
    const first = await a.start(spec);
    await a.waitHealthy(spec.instanceId);
    a.detach();
    process.kill(-first.pid!, 'SIGKILL');
    await pollUntil(() => (running(first.pid!) ? undefined : true), 5000, 'the instance to die');
    writeFileSync(join(fx.stateDir, 'broken.json'), '{ not json');

    const b = fx.supervisor();
    const recovered = await b.recover();
    assert.equal(recovered.length, 1, 'the broken record is skipped, the good one recovered');
    assert.equal(recovered[0]?.port, first.port);
    assert.equal(recovered[0]?.restarts, 1);
    assert.notEqual(recovered[0]?.pid, first.pid);
    await b.waitHealthy(spec.instanceId);
    assert.equal((await httpGet(first.port)).status, 200);
    await b.stopAll(1000);
  });

  it('keeps instances running when the control plane is killed with SIGKILL', async () => {
    const fx = fixture();
    const script = join(fx.workDir({ 'control-plane.mjs': CONTROL_PLANE_MJS }), 'control-plane.mjs');
    const spec = makeSpec(fx.workDir({ 'server.js': SERVER_JS }), `${NODE} server.js`);
    const plane = spawn(
      NODE,
      [...TS_NODE_ARGS, script, supervisorModule, fx.stateDir, fx.logDir, JSON.stringify(spec)],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(plane, 'exit');
    const [line] = (await Promise.race([
      once(createInterface({ input: plane.stdout! }), 'line'),
      exited.then(() => assert.fail('the control plane exited early')),
    ])) as [string];
    const status = JSON.parse(line) as InstanceStatus;
    fx.track(status.pid!);
    assert.equal(status.state, 'healthy');

    // While it lives, nobody else may supervise its stateDir.
    assert.throws(
      () => new LocalSupervisor({ stateDir: fx.stateDir, logDir: fx.logDir }),
      /in use by GovHost/,
    );

    plane.kill('SIGKILL');
    await exited;
    const res = await httpGet(status.port);
    assert.equal(res.status, 200);
    assert.ok(running(status.pid!), 'the instance died with its control plane');

    const b = fx.supervisor();
    const [adopted] = await b.recover();
    assert.equal(adopted?.pid, status.pid);
    assert.equal((await b.waitHealthy(spec.instanceId)).restarts, 0);
    // Its log kept going without the control plane: the descriptor is the child's own.
    assert.ok((await b.readLogs(spec.instanceId)).some((l) => l.includes('listening on')));
    await b.stopAll(1000);
    assert.ok(!running(status.pid!));
  });
});
