import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Fixture, makeSpec, NODE, pidInFile, pollUntil, running, SERVER_JS } from './test-helpers.ts';

const fx = new Fixture();
after(() => fx.cleanup());

/** Ignores SIGTERM, and so does the grandchild it starts; each writes its pid once ready. */
const STUBBORN_JS = `
const { spawn } = require('node:child_process');
const http = require('node:http');
const fs = require('node:fs');
process.on('SIGTERM', () => console.log('parent ignores SIGTERM'));
spawn(process.execPath, ['-e', \`
  process.on('SIGTERM', () => console.log('grandchild ignores SIGTERM'));
  require('node:fs').writeFileSync('grandchild.pid', String(process.pid));
  setInterval(() => {}, 1000);\`], { stdio: 'inherit' });
http.createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), () => {
  fs.writeFileSync('parent.pid', String(process.pid));
});
`;

/** Numbered lines on stdout and stderr, then quiet. */
const CHATTY_JS = `
for (let i = 1; i <= 50; i++) console.log('out line ' + i);
console.error('err line');
setInterval(() => {}, 1000);
`;

/** Writes 1 KiB lines for a while, fast, then says done and idles. */
const FLOOD_JS = `
const pad = 'x'.repeat(1000);
let n = 0;
const timer = setInterval(() => {
  for (let i = 0; i < 4; i++) console.log(String(++n).padStart(6, '0') + ' ' + pad);
  if (n >= 1600) { clearInterval(timer); console.log('done'); setInterval(() => {}, 1000); }
}, 8);
`;

const processCheck = { type: 'process' as const, endpoint: '', startTimeoutSec: 20, intervalMs: 200 };

describe('local supervisor: stop', () => {
  const sup = fx.supervisor();

  it('ends a process group that ignores SIGTERM, grandchild included, after the grace time', async () => {
    const dir = fx.workDir({ 'server.js': STUBBORN_JS });
    const spec = makeSpec(dir, `${NODE} server.js`);
    const started = await sup.start(spec);
    await sup.waitHealthy(spec.instanceId);
    const pidIn = (name: string) => pollUntil(() => pidInFile(join(dir, name)), 10_000, name);
    const all = [started.pid!, await pidIn('parent.pid'), await pidIn('grandchild.pid')];
    assert.ok(all.every(running));

    const t0 = Date.now();
    const stopped = await sup.stop(spec.instanceId, 700);
    const took = Date.now() - t0;
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.pid, null);
    assert.ok(took >= 650, `stop returned after ${took} ms, before the grace time`);
    assert.deepEqual(
      all.filter(running),
      [],
      'processes left after stop (a zombie waiting for a non-reaping init counts as gone)',
    );
    assert.equal(sup.get(spec.instanceId), undefined);
    assert.equal(existsSync(join(fx.stateDir, `${spec.instanceId}.json`)), false);
    const log = (await sup.readLogs(spec.instanceId)).join('\n');
    assert.match(log, /parent ignores SIGTERM/);
    assert.match(log, /grandchild ignores SIGTERM/);
    assert.match(log, /still running after 700 ms: SIGKILL/);
  });

  it('stops a well-behaved instance without waiting for the grace time', async () => {
    const spec = makeSpec(fx.workDir({ 'server.js': SERVER_JS }), `${NODE} server.js`);
    const started = await sup.start(spec);
    await sup.waitHealthy(spec.instanceId);
    const t0 = Date.now();
    await sup.stop(spec.instanceId, 10_000);
    assert.ok(Date.now() - t0 < 5000);
    assert.ok(!running(started.pid!));
  });

  it('stops an instance that is waiting to restart', async () => {
    const spec = makeSpec(fx.workDir({}), 'exit 1');
    await sup.start(spec);
    await assert.rejects(sup.waitHealthy(spec.instanceId), /exited with code 1/);
    const stopped = await sup.stop(spec.instanceId, 1000);
    assert.equal(stopped.state, 'stopped');
    assert.equal(sup.list().length, 0);
  });
});

describe('local supervisor: logs', () => {
  it('captures stdout and stderr, with a tail', async () => {
    const sup = fx.supervisor();
    const spec = makeSpec(fx.workDir({ 'chatty.js': CHATTY_JS }), `${NODE} chatty.js`, {
      healthCheck: processCheck,
    });
    await sup.start(spec);
    const own = (lines: string[]) => lines.filter((l) => !l.startsWith('[govhost'));
    await pollUntil(
      async () => ((await sup.readLogs(spec.instanceId)).includes('err line') ? true : undefined),
      10_000,
      'the last line in the log',
    );
    assert.deepEqual(own(await sup.readLogs(spec.instanceId, { tail: 3 })), [
      'out line 49',
      'out line 50',
      'err line',
    ]);
    const all = own(await sup.readLogs(spec.instanceId));
    assert.equal(all.length, 51);
    assert.equal(all[0], 'out line 1');
    assert.equal(sup.logPath(spec.instanceId), join(fx.logDir, `${spec.instanceId}.log`));
    const first = (await sup.readLogs(spec.instanceId))[0];
    assert.match(first ?? '', /^\[govhost .*\] started pid \d+ on port \d+$/);
    await sup.stopAll(1000);
  });

  it('rotates a log past logMaxBytes to .1 and keeps it bounded', async () => {
    const max = 64 * 1024;
    const sup = fx.supervisor({ logMaxBytes: max });
    const spec = makeSpec(fx.workDir({ 'flood.js': FLOOD_JS }), `${NODE} flood.js`, {
      healthCheck: processCheck,
    });
    await sup.start(spec);
    const path = sup.logPath(spec.instanceId);
    const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
    let largest = 0;
    const t0 = Date.now();
    await pollUntil(
      async () => {
        largest = Math.max(largest, size(path), size(`${path}.1`));
        return (await sup.readLogs(spec.instanceId, { tail: 1 }))[0] === 'done' ? true : undefined;
      },
      30_000,
      'the flood to end',
    );
    const seconds = (Date.now() - t0) / 1000;
    const written = 1600 * 1008;
    console.log(
      `# wrote ${written} bytes in ${seconds.toFixed(1)} s; largest log file seen ${largest} bytes`,
    );
    assert.ok(existsSync(`${path}.1`), 'never rotated');
    // Rotation runs 4 times a second: a file passes the limit by at most what the instance
    // writes between two checks (here about 1/4 of a MB). Without rotation it would hold all.
    assert.ok(largest < written / 2, `a log file reached ${largest} bytes`);
    const tail = await sup.readLogs(spec.instanceId, { tail: 30 });
    assert.equal(tail.length, 30);
    assert.equal(tail.at(-1), 'done');
    const numbers = tail.slice(0, -1).map((l) => Number(l.slice(0, 6)));
    assert.ok(
      numbers.every((n, i) => i === 0 || n > numbers[i - 1]!),
      'tail lines out of order',
    );
    await pollUntil(() => (size(path) <= max ? true : undefined), 5000, 'the current log under the limit');
    await sup.stopAll(1000);
  });
});
