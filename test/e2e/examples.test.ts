// test-seconds: 58
// The examples under examples/apps/ deployed unchanged (dependencies not vendored) by the real
// server, staged with the real npm and pip against registries this test starts on loopback (a
// Verdaccio holding Express's real tarballs, a PEP 503 index with a real `bottle` wheel), as in a
// closed government network whose only package source is an internal mirror: the platform is
// started with GOVHOST_NPM_REGISTRY / GOVHOST_PIP_INDEX_URL pointing at them, and every other host
// is behind a tripwire proxy, given to the builds as the services' proxy variables. Then the
// dependency cache: a redeploy with unchanged dependencies runs no package manager, `--no-cache`
// does, and (as root, with real service users) a build cannot write into any cache entry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type EgressTripwire,
  LOOPBACK_NO_PROXY,
  startEgressTripwire,
} from '../../src/test-support/egress-tripwire.ts';
import { type NpmRegistry, startNpmRegistry } from '../../src/test-support/npm-registry.ts';
import { type PipIndex, startPipIndex } from '../../src/test-support/pip-index.ts';
import { bottleWheel, pythonToolsMissing, SYSTEM_PYTHON } from '../../src/test-support/python-wheels.ts';
import {
  cleanEnv,
  type GovhostProcess,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import { type Api, apiClient, closeAgent, createService, deployDir, untilServed } from './runtime-helpers.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/apps/', import.meta.url));
const pythonMissing = pythonToolsMissing();
const isRoot = process.getuid?.() === 0;

const work = mkdtempSync(join(tmpdir(), 'govhost-examples-e2e-'));
// Builds run as the services' users: the app copies must be readable by them.
chmodSync(work, 0o755);
const dataDir = join(work, 'data');

let server: GovhostProcess;
let url: string;
let routerUrl: string;
let token: string;
let api: Api;
let registry: NpmRegistry;
let index: PipIndex | null = null;
let tripwire: EgressTripwire;
const host = (dept: string, slug: string) => `${slug}.${dept.toLowerCase()}.localhost`;

async function service(dept: string, slug: string) {
  await createService(api, dept, slug);
  // Every host but loopback is behind the tripwire: the builds get it as the service's variables.
  const proxy = tripwire.url;
  const set = await api('PATCH', `/services/${dept}/${slug}/env`, {
    set: {
      npm_config_proxy: proxy,
      npm_config_https_proxy: proxy,
      npm_config_noproxy: LOOPBACK_NO_PROXY,
      http_proxy: proxy,
      https_proxy: proxy,
      no_proxy: LOOPBACK_NO_PROXY,
    },
  });
  assert.equal(set.status, 200, JSON.stringify(set.json));
}

/** A copy of an example (a new bundle each time: `marker` changes one file's bytes). */
function example(name: string, marker: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  chmodSync(dir, 0o755);
  cpSync(join(EXAMPLES, name), dir, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|dist|\.venv|__pycache__)$/.test(src),
  });
  writeFileSync(join(dir, 'MARKER.txt'), `${marker}\n`);
  for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, f), body);
  return dir;
}

async function stagingLog(dept: string, slug: string): Promise<string> {
  return (await api('GET', `/services/${dept}/${slug}/staging-log?offset=0`)).json.text;
}

/** Every file of the cache with its SHA-256: what no build may change. */
function cacheSnapshot(): Map<string, string> {
  const root = join(dataDir, 'build', 'cache');
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile())
        out.set(relative(root, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(root);
  return out;
}

/** Why the Java example cannot be built here, or null: its test compiles it with the JDK's tools. */
function jdkMissing(): string | null {
  for (const tool of ['javac', 'jar']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0)
      return `${tool} is not installed (.ci/run installs openjdk-17-jdk-headless)`;
  }
  return null;
}

describe('the examples, deployed unchanged against loopback registries', () => {
  before(async () => {
    tripwire = await startEgressTripwire();
    registry = await startNpmRegistry({ packages: ['express'] });
    if (!pythonMissing) index = await startPipIndex({ wheels: [await bottleWheel()] });
    const s = await startServer(
      cleanEnv({
        GOVHOST_DATA_DIR: dataDir,
        GOVHOST_PORT: '0',
        GOVHOST_ROUTER_PORT: '0',
        GOVHOST_ROUTER_ADMIN_PORT: '0',
        GOVHOST_BUILD_PYTHON: SYSTEM_PYTHON,
        GOVHOST_NPM_REGISTRY: registry.url,
        ...(index ? { GOVHOST_PIP_INDEX_URL: index.url } : {}),
      }),
    );
    server = s.proc;
    url = s.url;
    routerUrl = s.routerUrl as string;
    token = s.token as string;
    api = apiClient(url, token);
    for (const code of ['EXA', 'EXB']) {
      const d = await api('POST', '/departments', { code, nameEn: code, nameZh: code });
      assert.equal(d.status, 201, JSON.stringify(d.json));
    }
    await service('EXA', 'express');
  });
  after(async () => {
    closeAgent();
    if (server) await stopProcess(server);
    await registry?.close();
    await index?.close();
    await tripwire?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('stages the Express example with npm ci from the loopback Verdaccio and serves it', async () => {
    const before = new Set(await registry.tarballsServed());
    const { upload, deployment } = await deployDir(
      url,
      api,
      token,
      'EXA/express',
      example('node-express', 'one'),
    );
    assert.equal(upload.builder, 'node: npm ci, npm run build, npm prune --omit=dev');
    assert.equal(deployment.state, 'succeeded', deployment.message);
    await untilServed(routerUrl, host('EXA', 'express'), (r) => r.status === 200);
    const info = await untilServed(
      routerUrl,
      host('EXA', 'express'),
      (r) => r.status === 200,
      20_000,
      '/build-info',
    );
    assert.match(info.body, /\{/);
    const served = (await registry.tarballsServed()).filter((p) => !before.has(p));
    assert.ok(
      served.some((p) => /^\/express\/-\/express-5\.\d+\.\d+\.tgz$/.test(p)),
      served.join(' '),
    );
    assert.ok(served.length > 50, `only ${served.length} tarballs came from the registry`);
    const log = await stagingLog('EXA', 'express');
    assert.match(log, /\$ npm ci --include=dev/);
    assert.match(log, /\$ npm prune --omit=dev/);
    assert.deepEqual(tripwire.attempts(), []);
  });

  it('redeploys with unchanged dependencies without running the package manager', async (t) => {
    const served = (await registry.tarballsServed()).length;
    const { deployment } = await deployDir(url, api, token, 'EXA/express', example('node-express', 'two'));
    assert.equal(deployment.state, 'succeeded', deployment.message);
    const log = await stagingLog('EXA', 'express');
    assert.match(log, /dependencies \(with devDependencies\) from the cache: no npm ci/);
    // The example has no devDependencies: the full install is the production one.
    assert.match(log, /the cached install is the production one, no npm prune/);
    assert.doesNotMatch(log, /\$ npm (ci|install|prune)/);
    // The build script still runs (its output depends on the app's files), without npm's start-up.
    assert.match(log, /\$ node build\.js {3}\(build\)/);
    assert.match(log, /staged in [\d.]+ s \(unpack [\d.]+ s, restore [\d.]+ s, build script [\d.]+ s/);
    assert.equal((await registry.tarballsServed()).length, served, 'a cached staging fetched packages');
    const res = await untilServed(routerUrl, host('EXA', 'express'), (r) => r.status === 200);
    assert.equal(res.status, 200);
    t.diagnostic(
      `warm Express staging: ${log
        .split('\n')
        .filter((l) => / in [\d.]+ s/.test(l))
        .join('; ')}`,
    );
  });

  it('installs afresh with noCache (deploy --no-cache)', async () => {
    const { deployment } = await deployDir(
      url,
      api,
      token,
      'EXA/express',
      example('node-express', 'two'),
      '?noCache=true',
    );
    assert.equal(deployment.state, 'succeeded', deployment.message);
    const log = await stagingLog('EXA', 'express');
    // The same bundle as before, yet staged again, and npm ran.
    assert.doesNotMatch(log, /already staged/);
    assert.match(log, /\$ npm ci --include=dev/);
    assert.doesNotMatch(log, /from the cache/);
  });

  it('stages the Python example with pip from the loopback index, and then from the cache', {
    skip: pythonMissing ?? false,
  }, async () => {
    await service('EXA', 'py');
    const { upload, deployment } = await deployDir(
      url,
      api,
      token,
      'EXA/py',
      example('python-requirements', 'one'),
    );
    assert.match(upload.builder, /^python: a virtual environment, pip install -r requirements.txt$/);
    assert.equal(deployment.state, 'succeeded', deployment.message);
    const res = await untilServed(routerUrl, host('EXA', 'py'), (r) => r.status === 200);
    assert.match(res.body, /Hello from GovHost/);
    assert.ok(index?.filesServed().some((f) => /^bottle-[\d.]+-py3-none-any\.whl$/.test(f)));
    assert.match(await stagingLog('EXA', 'py'), /\$ python -m pip install/);
    const again = await deployDir(url, api, token, 'EXA/py', example('python-requirements', 'two'));
    assert.equal(again.deployment.state, 'succeeded', again.deployment.message);
    const log = await stagingLog('EXA', 'py');
    assert.match(log, /virtual environment from the cache: no venv, no pip install/);
    // No program ran at all: no venv, no pip.
    assert.doesNotMatch(log, /^\$ /m);
    assert.match((await untilServed(routerUrl, host('EXA', 'py'), (r) => r.status === 200)).body, /Bottle/);
    assert.deepEqual(tripwire.attempts(), []);
  });

  it('gives no build a way to write into a cache entry, its own department’s or another’s', {
    skip: isRoot ? false : 'needs root: builds run as the platform’s own user, who owns the cache',
  }, async () => {
    await service('EXB', 'express');
    // EXB's own entries first (a cold staging of its own), then a build that tries to write
    // into every entry there is, and into the node_modules it was handed.
    const first = await deployDir(url, api, token, 'EXB/express', example('node-express', 'b1'));
    assert.equal(first.deployment.state, 'succeeded', first.deployment.message);
    const snapshot = cacheSnapshot();
    const entries = [...new Set([...snapshot.keys()].map((k) => k.split('/').slice(0, 2).join('/')))];
    assert.ok(entries.length >= 4, `entries: ${entries.join(' ')}`);
    const targets = entries.flatMap((e) => {
      const dir = join(dataDir, 'build', 'cache', e);
      return [join(dir, 'files', 'pwned'), join(dir, 'files', 'express', 'package.json'), join(dir, 'size')];
    });
    const attack = [
      "const fs = require('node:fs');",
      `for (const t of ${JSON.stringify(targets)}) {`,
      "  try { fs.appendFileSync(t, 'pwned'); console.log('WROTE ' + t); }",
      "  catch (e) { console.log('REFUSED ' + e.code); }",
      '}',
      // Its own install's files are hard links to the entry's, the platform's: it may replace
      // them in its own folders, never change them in place.
      "const own = 'node_modules/express/package.json';",
      "const text = fs.readFileSync(own, 'utf8');",
      "try { fs.appendFileSync(own, ' '); console.log('CHANGED in place'); } catch (e) { console.log('IN PLACE ' + e.code); }",
      "fs.rmSync(own); fs.writeFileSync(own, text + '\\n'); console.log('REPLACED own copy');",
      "require('./build.js');",
    ].join('\n');
    const app = example('node-express', 'b2', { 'attack.cjs': attack });
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    pkg.scripts.build = 'node attack.cjs';
    // The same dependencies: the lockfile's hash and the declared dependencies are unchanged.
    writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
    const { deployment } = await deployDir(url, api, token, 'EXB/express', app);
    assert.equal(deployment.state, 'succeeded', deployment.message);
    const log = await stagingLog('EXB', 'express');
    assert.match(log, /from the cache: no npm ci/);
    assert.doesNotMatch(log, /WROTE /);
    assert.equal(log.match(/REFUSED EACCES/g)?.length, targets.length, log);
    assert.match(log, /IN PLACE EACCES/);
    assert.match(log, /REPLACED own copy/);
    assert.deepEqual(cacheSnapshot(), snapshot);
    for (const e of entries) assert.equal(statSync(join(dataDir, 'build', 'cache', e)).uid, 0);
  });

  it('runs the Java example, an executable jar, with java -jar and serves it through the router', {
    skip: jdkMissing() ?? false,
  }, async () => {
    const dir = example('java-jar', 'java');
    for (const [tool, args] of [
      ['javac', ['-d', 'classes', 'src/Hello.java']],
      ['jar', ['--create', '--file', 'app.jar', '--main-class', 'Hello', '-C', 'classes', '.']],
    ] as const) {
      const run = spawnSync(tool, args, { cwd: dir, encoding: 'utf8' });
      assert.equal(run.status, 0, `${tool}: ${run.stderr}`);
    }
    chmodSync(join(dir, 'app.jar'), 0o644);
    await createService(api, 'EXA', 'java');
    const { upload, deployment } = await deployDir(url, api, token, 'EXA/java', dir);
    assert.equal(upload.builder, 'java: nothing to install');
    assert.equal(deployment.state, 'succeeded', deployment.message);
    const page = await untilServed(routerUrl, host('EXA', 'java'), (r) => r.status === 200);
    assert.match(page.body, /^Hello from Java \d+, version 1$/m);
    assert.match(await stagingLog('EXA', 'java'), /builder java: nothing to install \(java openjdk version/);
  });
});
