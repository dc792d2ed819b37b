import assert from 'node:assert/strict';
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { detectCgroups } from './cgroups.ts';
import {
  Fixture,
  makeSpec,
  NODE,
  pidInFile,
  pollUntil,
  running,
  SERVER_JS,
  waitForStatus,
} from './test-helpers.ts';

const fx = new Fixture();
after(() => fx.cleanup());

const isRoot = process.getuid?.() === 0;
const layout = detectCgroups('/sys/fs/cgroup');

/** Takes memory 16 MiB at a time (touching every page, so it is really used) up to 256 MiB. */
const GREEDY_JS = `
const held = [];
for (let mb = 16; mb <= 256; mb += 16) {
  held.push(Buffer.alloc(16 * 1024 * 1024, 1));
  console.log('holding ' + mb + ' MiB');
}
console.log('survived');
setInterval(() => {}, 1000);
`;

/** Starts a grandchild in a session of its own (out of the process group), writes its pid. */
const ESCAPER_JS = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
require('node:fs').writeFileSync('escaper.pid', String(child.pid));
require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT));
`;

/** Reports its ids and whether it can read a file that belongs to another user. */
const WHOAMI_JS = `
const fs = require('node:fs');
let read;
try { fs.readFileSync(process.env.SECRET_FILE); read = 'read it'; } catch (e) { read = e.code; }
console.log('secret: ' + read);
require('node:http').createServer((q, s) => s.end(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), read })))
  .listen(Number(process.env.PORT));
`;

const cgroupFile = (controller: string, id: string, file: string) =>
  readFileSync(join('/sys/fs/cgroup', controller, 'govhost', id, file), 'utf8').trim();

describe('local supervisor: resource limits', () => {
  const noMemoryLimit = !layout.memoryParent && `no memory cgroup here: ${layout.reason}`;

  it('kills an instance that goes past its cgroup memory limit', { skip: noMemoryLimit }, async () => {
    const sup = fx.supervisor();
    const spec = makeSpec(fx.workDir({ 'greedy.js': GREEDY_JS }), `exec ${NODE} greedy.js`, {
      memoryMb: 64,
      cpu: 0.5,
      healthCheck: { type: 'process', endpoint: '', startTimeoutSec: 20, intervalMs: 200 },
    });
    const started = await sup.start(spec);
    assert.deepEqual(started.limits, { memory: true, cpu: true, reason: null });
    if (layout.version === 1) {
      assert.equal(cgroupFile('memory', spec.instanceId, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
      assert.equal(cgroupFile('cpu', spec.instanceId, 'cpu.cfs_quota_us'), '50000');
      assert.equal(cgroupFile('cpu', spec.instanceId, 'cpu.cfs_period_us'), '100000');
    }
    const killed = await waitForStatus(
      sup,
      spec.instanceId,
      (s) => s.lastExit !== null,
      20_000,
      'the OOM kill',
    );
    assert.equal(killed.lastExit?.signal, 'SIGKILL');
    const log = (await sup.readLogs(spec.instanceId)).join('\n');
    assert.match(log, /holding 16 MiB/);
    assert.doesNotMatch(log, /survived/);
    if (layout.version === 1) {
      assert.match(cgroupFile('memory', spec.instanceId, 'memory.oom_control'), /oom_kill [1-9]/);
    }
    await sup.stop(spec.instanceId, 1000);
    // The groups go with the instance.
    assert.equal(existsSync(join(layout.memoryParent!, spec.instanceId)), false);
  });

  it('kills, at stop, a grandchild that left the process group', { skip: noMemoryLimit }, async () => {
    const sup = fx.supervisor();
    const dir = fx.workDir({ 'escaper.js': ESCAPER_JS });
    const spec = makeSpec(dir, `${NODE} escaper.js`, {
      healthCheck: { type: 'port', endpoint: '', startTimeoutSec: 20, intervalMs: 200 },
    });
    await sup.start(spec);
    await sup.waitHealthy(spec.instanceId);
    const escaper = await pollUntil(() => pidInFile(join(dir, 'escaper.pid')), 5000, 'escaper.pid');
    fx.track(escaper);
    assert.ok(running(escaper));
    await sup.stop(spec.instanceId, 1000);
    assert.ok(!running(escaper), 'the escaped grandchild survived the stop');
  });

  it('says why limits are not enforced where there are no cgroups', async () => {
    const off = fx.supervisor({ cgroupRoot: null });
    const fake = fx.workDir({}); // a folder with no cgroup files in it
    const none = fx.supervisor({ cgroupRoot: fake });
    const spec = () => makeSpec(fx.workDir({ 'server.js': SERVER_JS }), `${NODE} server.js`);
    const a = await off.start(spec());
    assert.deepEqual(a.limits, { memory: false, cpu: false, reason: 'cgroups turned off by configuration' });
    const b = await none.start(spec());
    assert.equal(b.limits.memory, false);
    assert.match(b.limits.reason ?? '', /no memory cgroup hierarchy/);
    // Memory is still reported, from /proc.
    const sampled = await pollUntil(() => off.get(a.instanceId)?.memoryBytes ?? undefined, 5000, 'memory');
    assert.ok(sampled > 1024 * 1024);
    await off.stopAll(1000);
    await none.stopAll(1000);
  });
});

describe('local supervisor: users', () => {
  it('runs an instance as its uid/gid, unable to read another user’s file', {
    skip: !isRoot && 'needs root',
  }, async () => {
    const sup = fx.supervisor();
    const dir = fx.workDir({ 'whoami.js': WHOAMI_JS });
    chownSync(dir, 20001, 20001); // the caller's job in production: the instance's folder is its own
    const secrets = fx.workDir({});
    const secret = join(secrets, 'secret.txt');
    writeFileSync(secret, 'another department’s data', { mode: 0o600 });
    chownSync(secret, 20002, 20002);
    const spec = makeSpec(dir, `${NODE} whoami.js`, {
      uid: 20001,
      gid: 20001,
      env: { SECRET_FILE: secret },
      healthCheck: { type: 'port', endpoint: '', startTimeoutSec: 20, intervalMs: 200 },
    });
    const started = await sup.start(spec);
    await sup.waitHealthy(spec.instanceId);
    const status = readFileSync(`/proc/${started.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+20001\s+20001\s+20001\s+20001$/m);
    assert.match(status, /^Gid:\s+20001\s+20001\s+20001\s+20001$/m);
    // No supplementary groups carried over from root.
    assert.match(status, /^Groups:\s*$/m);
    const log = await pollUntil(
      async () => (await sup.readLogs(spec.instanceId)).find((l) => l.startsWith('secret:')),
      5000,
      'the secret line',
    );
    assert.equal(log, 'secret: EACCES');
    await sup.stop(spec.instanceId, 1000);
  });
});
