/**
 * The loopback npm registry that staging tests install from: the real `npm` client installs the
 * Express example from it, from the example's own lockfile and without one, with a fresh cache and
 * every other host behind a tripwire, so nothing can come from the public registry.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TS_NODE_ARGS } from '../platform/ts-loader.ts';
import { describeFailure, runCommand } from './command.ts';
import { type EgressTripwire, startEgressTripwire } from './egress-tripwire.ts';
import { freePort } from './free-port.ts';
import { type NpmRegistry, npmClientEnv, startNpmRegistry } from './npm-registry.ts';
import { makeNpmTarball } from './npm-tarballs.ts';
import { until } from './until.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/apps/node-express/', import.meta.url));

interface Lockfile {
  packages: Record<string, { version?: string; resolved?: string; integrity?: string }>;
}

/** `/name/-/base-version.tgz`, the path a registry serves a package's tarball at. */
const tarballPath = (name: string, version: string) => `/${name}/-/${name.split('/').pop()}-${version}.tgz`;

/** The package name of a lockfile folder (`node_modules/a/node_modules/@s/b` → `@s/b`). */
const nameOf = (folder: string) => folder.slice(folder.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('loopback npm registry (Verdaccio)', () => {
  let work: string;
  let registry: NpmRegistry;
  let tripwire: EgressTripwire;
  let serial = 0;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'govhost-npm-registry-test-'));
    tripwire = await startEgressTripwire();
    registry = await startNpmRegistry({ packages: ['express'] });
  });
  after(async () => {
    await registry?.close();
    await tripwire?.close();
    await rm(work, { recursive: true, force: true });
  });

  /** A copy of the Express example (without anything installed) and a fresh npm home for it. */
  async function exampleCopy(withLockfile: boolean) {
    const dir = join(work, `app-${++serial}`);
    await cp(EXAMPLE, dir, {
      recursive: true,
      filter: (src) =>
        !/[/\\](node_modules|dist)$/.test(src) && (withLockfile || !src.endsWith('package-lock.json')),
    });
    const home = join(work, `home-${serial}`);
    await mkdir(home);
    return { dir, env: npmClientEnv({ registry: registry.url, home, proxy: tripwire.url }) };
  }

  it('npm ci installs the Express example from its lockfile, every tarball from the registry', async () => {
    const { dir, env } = await exampleCopy(true);
    const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as Lockfile;
    const locked = Object.entries(lock.packages).filter(([folder]) => folder !== '');
    // The example's lockfile names no registry, so it installs from whichever one npm is given.
    assert.deepEqual(
      locked.filter(([, p]) => p.resolved),
      [],
    );
    const before = new Set(await registry.tarballsServed());

    const r = await runCommand('npm', ['ci'], { cwd: dir, env });
    assert.equal(r.code, 0, describeFailure('npm ci', r));

    const served = (await registry.tarballsServed()).filter((p) => !before.has(p));
    assert.deepEqual(
      [...new Set(served)].sort(),
      locked.map(([folder, p]) => tarballPath(nameOf(folder), p.version!)).sort(),
    );
    assert.deepEqual(tripwire.attempts(), []);
    const express = JSON.parse(await readFile(join(dir, 'node_modules/express/package.json'), 'utf8'));
    assert.equal(express.version, lock.packages['node_modules/express']!.version);

    // What was installed works: the build script runs and the app serves with Express.
    const build = await runCommand('npm', ['run', 'build'], { cwd: dir, env });
    assert.equal(build.code, 0, describeFailure('npm run build', build));
    const info = JSON.parse(await readFile(join(dir, 'dist/build-info.json'), 'utf8'));
    assert.equal(info.express, express.version);
    await serveOnce(dir);
  });

  it('npm install without a lockfile resolves every package on the registry', async () => {
    const { dir, env } = await exampleCopy(false);
    const r = await runCommand('npm', ['install'], { cwd: dir, env });
    assert.equal(r.code, 0, describeFailure('npm install', r));
    const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as Lockfile;
    const resolved = Object.entries(lock.packages)
      .filter(([folder]) => folder !== '')
      .map(([folder, p]) => [nameOf(folder), p.resolved] as const);
    assert.ok(resolved.length > 50, `only ${resolved.length} packages installed`);
    for (const [name, url] of resolved) {
      assert.ok(url?.startsWith(registry.url), `${name} resolved to ${url}, not to ${registry.url}`);
    }
    assert.deepEqual(tripwire.attempts(), []);
  });

  it('has no uplinks: a package nobody published is not found', async () => {
    const { dir, env } = await exampleCopy(false);
    const r = await runCommand('npm', ['view', 'left-pad', 'version'], { cwd: dir, env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /E404/);
    assert.deepEqual(tripwire.attempts(), []);
  });

  it('lets the test user publish with the real npm client', async () => {
    const { dir, env } = await exampleCopy(false);
    const pkg = join(dir, 'published');
    await mkdir(pkg);
    await writeFile(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'govhost-test-published', version: '1.2.3', main: 'index.js' }),
    );
    await writeFile(join(pkg, 'index.js'), 'module.exports = 42;\n');
    const host = new URL(registry.url).host;
    await writeFile(env.npm_config_userconfig!, `//${host}/:_authToken=${registry.token}\n`);
    const pub = await runCommand('npm', ['publish'], { cwd: pkg, env });
    assert.equal(pub.code, 0, describeFailure('npm publish', pub));
    const view = await runCommand('npm', ['view', 'govhost-test-published', 'version'], { cwd: dir, env });
    assert.equal(view.stdout.trim(), '1.2.3', describeFailure('npm view', view));
  });

  it("publishes a test's own package: an install script that fails fails npm install, saying so", async () => {
    await registry.publish(
      await makeNpmTarball({
        name: 'govhost-test-failing-install',
        version: '1.0.0',
        manifest: {
          scripts: { install: 'node -e "console.error(\'disk quota exceeded\'); process.exit(3)"' },
        },
      }),
    );
    const { dir, env } = await exampleCopy(false);
    // An app of its own that needs only this package, so that nothing else is installed first.
    const app = join(dir, 'needs-failing');
    await mkdir(app);
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'needs-failing',
        version: '1.0.0',
        dependencies: { 'govhost-test-failing-install': '1.0.0' },
      }),
    );
    const r = await runCommand('npm', ['install'], { cwd: app, env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /disk quota exceeded/);
    assert.deepEqual(tripwire.attempts(), []);
  });

  it('does not outlive a test process that is killed', async () => {
    const script = `const r = await import(${JSON.stringify(new URL('./npm-registry.ts', import.meta.url).href)});
      const reg = await r.startNpmRegistry(); console.log(JSON.stringify({ pid: reg.pid }));`;
    // Its registry's folder goes under a temp folder of this test's, to see that it is removed.
    const holderTmp = join(work, 'holder-tmp');
    await mkdir(holderTmp);
    const holder = spawn(process.execPath, [...TS_NODE_ARGS, '--input-type=module', '-e', script], {
      env: { ...process.env, TMPDIR: holderTmp },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    holder.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    const pid = await until('the holder to start a registry', () => /"pid":(\d+)/.exec(out)?.[1], 30_000);
    assert.ok(alive(Number(pid)));
    const registryDirs = () => readdirSync(holderTmp).filter((f) => f.startsWith('govhost-npm-registry-'));
    assert.equal(registryDirs().length, 1);
    holder.kill('SIGKILL');
    await until('Verdaccio to exit after its test process', () => !alive(Number(pid)), 10_000);
    await until('its folder to be removed', () => registryDirs().length === 0, 10_000);
  });

  it('the tripwire catches a request for any other registry', async () => {
    const { dir, env } = await exampleCopy(false);
    const own = await startEgressTripwire();
    try {
      const r = await runCommand(
        'npm',
        ['view', 'left-pad', 'version', '--registry', 'https://registry.npmjs.org/', '--fetch-retries', '0'],
        { cwd: dir, env: { ...env, npm_config_proxy: own.url, npm_config_https_proxy: own.url } },
      );
      assert.notEqual(r.code, 0);
      assert.deepEqual(own.attempts(), ['CONNECT registry.npmjs.org:443']);
    } finally {
      await own.close();
    }
  });
});

/** Whether a process runs (a zombie that no one has reaped yet does not). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Starts the installed example with `npm start` on a free port and checks that Express answers. */
async function serveOnce(dir: string): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, ['server.js'], {
    cwd: dir,
    env: { PATH: process.env.PATH, PORT: String(port) },
    stdio: 'ignore',
  });
  try {
    const res = await until(
      'the Express example to answer',
      () => fetch(`http://127.0.0.1:${port}/api/greeting?name=GovHost`),
      15_000,
    );
    assert.deepEqual(await res.json(), { greeting: 'Hello, GovHost!' });
    assert.equal(res.headers.get('x-powered-by'), 'Express');
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
}
