/**
 * The example apps under examples/apps are what a department copies first, so they must pack,
 * pass inspection with the expected start command, and actually serve once started the way the
 * local runtime starts an instance (`/bin/sh -c <command>` in the release folder, with PORT set).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { packBundle } from '../cli/pack.ts';
import { freePort } from '../test-support/free-port.ts';
import { tempDir } from './bundle.fixtures.ts';
import { extractBundle, inspectBundle } from './bundle-inspect.ts';
import { DEFAULT_BUNDLE_LIMITS } from './bundle-scan.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/apps/', import.meta.url));
const hasPython = spawnSync('python3', ['--version']).status === 0;

/** Polls until the app answers its health check, as the runtime's http check would. */
async function waitHealthy(base: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}`);
    const res = await fetch(`${base}/healthz`).catch(() => null);
    if (res?.status === 200) return;
    await sleep(100);
  }
  throw new Error('the app did not become healthy in 10 s');
}

describe('example apps', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const children: ChildProcess[] = [];
  const tarballs: string[] = [];
  before(async () => ({ dir, cleanup } = await tempDir('govhost-examples-test-')));
  after(async () => {
    // Only the groups of apps still running: a test that failed half-way may leave one.
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(-c.pid, 'SIGKILL');
    }
    for (const t of tarballs) await rm(t, { force: true });
    await cleanup();
  });

  /** Packs and inspects an example, and unpacks it into a release folder. */
  async function release(name: string) {
    const packed = await packBundle(join(EXAMPLES, name));
    tarballs.push(packed.path);
    const info = await inspectBundle(packed.path, DEFAULT_BUNDLE_LIMITS);
    const workDir = join(dir, name);
    await extractBundle(packed.path, workDir);
    return { info, workDir };
  }

  /** Starts the release's command like the local runtime does, and waits for it to be healthy. */
  async function start(workDir: string, command: string) {
    const port = await freePort();
    // Its own process group, so that the shell, npm and node stop together.
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: workDir,
      // Like the runtime: the release's own environment plus PORT, HOME and PATH; not ours, whose
      // NODE_OPTIONS would load the test runner's TypeScript loader into the app.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port) },
      detached: true,
      stdio: 'ignore',
    });
    children.push(child);
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(base, child);
    return { base, child };
  }

  async function stop(child: ChildProcess) {
    const exited = once(child, 'exit');
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }

  it('node-hello: npm start, http health check on /healthz, 128 MB', async () => {
    const { info, workDir } = await release('node-hello');
    assert.equal(info.kind, 'process');
    assert.equal(info.command, 'npm start');
    assert.deepEqual(info.warnings, []);
    assert.equal(info.manifest.name, 'node-hello');
    assert.equal(info.manifest.memoryMb, 128);
    assert.equal(info.manifest.instances, 1);
    assert.deepEqual(info.manifest.healthCheck, { type: 'http', endpoint: '/healthz', startTimeoutSec: 60 });

    const { base, child } = await start(workDir, info.command!);
    const page = await (await fetch(`${base}/`)).text();
    assert.match(page, /Hello from GovHost/);
    assert.match(page, /process <strong>\d+<\/strong>/);
    const t0 = Date.now();
    const slow = await fetch(`${base}/slow?ms=150`);
    assert.equal(await slow.text(), 'waited 150 ms\n');
    assert.ok(Date.now() - t0 >= 140);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    await stop(child);
  });

  it('python-hello: the web: line of its Procfile', {
    skip: !hasPython && 'python3 is not installed',
  }, async () => {
    const { info, workDir } = await release('python-hello');
    assert.equal(info.kind, 'process');
    assert.equal(info.command, 'python3 app.py');
    assert.deepEqual(info.manifest.healthCheck, { type: 'port', endpoint: '/', startTimeoutSec: 60 });

    const { base, child } = await start(workDir, info.command!);
    assert.match(await (await fetch(`${base}/`)).text(), /Hello from GovHost/);
    await stop(child);
  });

  // The examples with dependencies are installed and served in the tests of the loopback npm
  // registry and pip index (src/test-support/); here they must pack and pass inspection.
  it('node-express: npm start, http health check, and neither node_modules nor dist packed', async () => {
    const copy = join(dir, 'node-express-copy');
    await cp(join(EXAMPLES, 'node-express'), copy, { recursive: true });
    // What a developer's own `npm install` and `npm run build` leave behind: .govhostignore skips it.
    await mkdir(join(copy, 'node_modules/express'), { recursive: true });
    await writeFile(join(copy, 'node_modules/express/index.js'), '');
    await mkdir(join(copy, 'dist'));
    await writeFile(join(copy, 'dist/build-info.json'), '{}');
    const packed = await packBundle(copy);
    tarballs.push(packed.path);
    const info = await inspectBundle(packed.path, DEFAULT_BUNDLE_LIMITS);
    assert.equal(info.kind, 'process');
    assert.equal(info.command, 'npm start');
    assert.deepEqual(info.warnings, []);
    assert.equal(info.manifest.name, 'node-express');
    assert.equal(info.manifest.memoryMb, 256);
    assert.deepEqual(info.manifest.healthCheck, { type: 'http', endpoint: '/healthz', startTimeoutSec: 60 });
    // package.json, package-lock.json, build.js, server.js, manifest.yml.
    assert.equal(info.fileCount, 5);
  });

  it('python-requirements: the web: line of its Procfile, http health check', async () => {
    const { info } = await release('python-requirements');
    assert.equal(info.kind, 'process');
    assert.equal(info.command, 'python3 app.py');
    assert.deepEqual(info.warnings, []);
    assert.equal(info.manifest.name, 'python-requirements');
    assert.deepEqual(info.manifest.healthCheck, { type: 'http', endpoint: '/healthz', startTimeoutSec: 60 });
  });

  it('static-site: an index.html and no command', async () => {
    const { info } = await release('static-site');
    assert.equal(info.kind, 'static');
    assert.equal(info.command, null);
    assert.equal(info.fileCount, 2);
  });
});
