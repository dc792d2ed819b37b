// test-seconds: 42
// Staging end to end: the real server, the real npm and pip, real service processes behind the
// real router. Packages come from files the test makes (a tarball from `npm pack`, a wheel from
// `pip wheel`), so nothing reaches beyond this host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cleanEnv,
  type GovhostProcess,
  startServer,
  stopProcess,
} from '../../src/test-support/server-process.ts';
import {
  type Api,
  apiClient,
  closeAgent,
  createService,
  deployDir,
  untilServed,
  uploadBundle,
  viaRouter,
  waitDeployment,
} from './runtime-helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'govhost-build-e2e-'));
// Builds run as the service's user: the packages the test makes must be readable by it.
chmodSync(work, 0o755);
const PYTHON = '/usr/bin/python3';
const env = cleanEnv({
  GOVHOST_DATA_DIR: join(work, 'data'),
  GOVHOST_PORT: '0',
  GOVHOST_ROUTER_PORT: '0',
  GOVHOST_ROUTER_ADMIN_PORT: '0',
  GOVHOST_BUILD_MEMORY_MB: '400',
  GOVHOST_BUILD_PYTHON: PYTHON,
});

let server: GovhostProcess;
let url: string;
let routerUrl: string;
let token: string;
let api: Api;
const DEPT = 'BLD';
const host = (slug: string) => `${slug}.${DEPT.toLowerCase()}.localhost`;

async function service(slug: string) {
  await createService(api, DEPT, slug);
}

/** Writes a folder of files (paths relative to a new folder under the test's), and returns it. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(work, 'app-'));
  chmodSync(dir, 0o755);
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

/** A tiny npm package, packed with the real `npm pack`; returns its tarball's path. */
function npmPackage(): string {
  const dir = folder({
    'package.json': JSON.stringify({ name: 'govhost-greeting', version: '1.0.0', main: 'index.js' }),
    'index.js': 'module.exports = (who) => `Hello, ${who}, from a staged dependency`;\n',
  });
  // A clean environment: the runner's own npm_config_* (from `npm test`) must not steer it.
  const name = execFileSync('npm', ['pack', '--silent'], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: work },
  }).trim();
  return join(dir, name);
}

/** A Node app whose dependency is not vendored: staging must install it. */
const nodeApp = (
  dependency: string,
  extra: Record<string, string> = {},
  scripts: Record<string, string> = {},
) =>
  folder({
    'package.json': JSON.stringify({
      name: 'staged-app',
      version: '1.0.0',
      scripts: { start: 'node server.js', ...scripts },
      dependencies: { 'govhost-greeting': dependency },
    }),
    'server.js': [
      "const http = require('node:http');",
      "const fs = require('node:fs');",
      "const greet = require('govhost-greeting');",
      "const built = fs.existsSync('built.txt') ? fs.readFileSync('built.txt', 'utf8').trim() : 'not built';",
      "http.createServer((q, s) => s.end(`${greet('citizen')} (${built}) ${process.env.VERSION ?? ''}`)).listen(process.env.PORT);",
      '',
    ].join('\n'),
    ...extra,
  });

async function stagingLog(slug: string, release?: number) {
  const q = release === undefined ? '' : `&release=${release}`;
  return (await api('GET', `/services/${DEPT}/${slug}/staging-log?offset=0${q}`)).json;
}

describe('staging bundles into droplets', () => {
  let tarball: string;
  before(async () => {
    tarball = npmPackage();
    const s = await startServer(env);
    server = s.proc;
    url = s.url;
    routerUrl = s.routerUrl as string;
    token = s.token as string;
    api = apiClient(url, token);
    assert.equal(
      (await api('POST', '/departments', { code: DEPT, nameEn: 'Build', nameZh: '建置' })).status,
      201,
    );
    await service('node');
  });
  after(async () => {
    closeAgent();
    if (server) await stopProcess(server);
    rmSync(work, { recursive: true, force: true });
  });

  it('installs a Node app’s dependency, runs its build script, and serves it through the router', async () => {
    const app = nodeApp(
      `file:${tarball}`,
      { 'VERSION.txt': 'one' },
      { build: "node -e \"require('fs').writeFileSync('built.txt', 'built by npm run build')\"" },
    );
    const { upload, deployment } = await deployDir(url, api, token, `${DEPT}/node`, app);
    assert.match(upload.builder, /^node: npm install, npm run build, npm prune --omit=dev$/);
    assert.equal(deployment.state, 'succeeded', deployment.message);
    const res = await untilServed(routerUrl, host('node'), (r) => r.status === 200);
    assert.match(res.body, /Hello, citizen, from a staged dependency \(built by npm run build\)/);
    const log = await stagingLog('node');
    assert.equal(log.done, true);
    assert.match(log.text, /-----> builder node: npm install/);
    assert.match(log.text, /\$ npm install --include=dev/);
    // Run as npm would, without npm's start-up: `sh -c` with npm's variables (npm-scripts.ts).
    assert.match(log.text, /-----> running the build script as npm run build would, without npm's start-up/);
    assert.match(log.text, /\$ node -e .*built\.txt.* {3}\(build\)/);
    assert.match(log.text, /droplet [0-9a-f]{12} staged in/);
  });

  it('reuses the droplet for a variable change, a rollback and scaling: no staging again', async () => {
    const releases = async () => (await api('GET', `/services/${DEPT}/node/releases`)).json.items;
    const first = (await releases())[0];
    assert.match(first.droplet, /^[0-9a-f]{64}$/);
    const env = await api('PATCH', `/services/${DEPT}/node/env`, { set: { VERSION: 'v-env' } });
    assert.equal((await waitDeployment(api, `${DEPT}/node`, env.json.deployment.id)).state, 'succeeded');
    await untilServed(routerUrl, host('node'), (r) => r.body.includes('v-env'));
    const rb = await api('POST', `/services/${DEPT}/node/rollback`, {});
    assert.equal(rb.status, 202, JSON.stringify(rb.json));
    assert.equal((await waitDeployment(api, `${DEPT}/node`, rb.json.deployment.id)).state, 'succeeded');
    const scaled = await api('POST', `/services/${DEPT}/node/scale`, { instances: 2 });
    assert.equal((await waitDeployment(api, `${DEPT}/node`, scaled.json.id)).state, 'succeeded');
    const all = await releases();
    assert.equal(all.length, 3);
    for (const r of all) assert.equal(r.droplet, first.droplet, `v${r.version} runs another droplet`);
    // Neither the variable change nor the rollback staged anything: they have no staging log.
    for (const r of all.slice(0, 2)) assert.equal((await stagingLog('node', r.version)).staged, false);
  });

  it('fails a deploy whose app needs a module it does not declare, naming it, while the old release serves', async () => {
    const app = nodeApp(`file:${tarball}`, {
      'server.js':
        "require('express');\nrequire('node:http').createServer((q, s) => s.end('never')).listen(process.env.PORT);\n",
    });
    const { deployment } = await deployDir(url, api, token, `${DEPT}/node`, app);
    assert.equal(deployment.state, 'failed');
    assert.match(deployment.message, /did not become healthy/);
    assert.match(deployment.message, /Cannot find module 'express'/);
    assert.match(deployment.message, /previous release is still serving/);
    const res = await viaRouter(routerUrl, host('node'));
    assert.match(res.body, /from a staged dependency/);
    // `govhost logs` shows the failed release's instance output.
    const logs = await fetch(`${url}/api/v1/services/${DEPT}/node/logs?tail=50`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.match(await logs.text(), /Cannot find module 'express'/);
  });

  it('fails a deploy whose install fails, with the decisive npm line, while the old release serves', async () => {
    const app = nodeApp(`file:${join(work, 'no-such-package.tgz')}`);
    const { deployment } = await deployDir(url, api, token, `${DEPT}/node`, app);
    assert.equal(deployment.state, 'failed');
    assert.match(deployment.message, /could not be staged: npm install exited with code \d+/);
    assert.match(deployment.message, /npm (error|ERR!) (code ENOENT|enoent)/i);
    assert.match(deployment.message, /previous release is still serving/);
    assert.match((await viaRouter(routerUrl, host('node'))).body, /from a staged dependency/);
  });

  it('stops a staging that passes its memory limit, and says so', async () => {
    const hog = 'node -e "const a = []; for (;;) a.push(Buffer.alloc(1e7, 1))"';
    const app = nodeApp(`file:${tarball}`, {}, { build: hog });
    const { deployment } = await deployDir(url, api, token, `${DEPT}/node`, app);
    assert.equal(deployment.state, 'failed');
    assert.match(deployment.message, /staging was stopped: it passed its memory limit of 400 MiB/);
    assert.match((await viaRouter(routerUrl, host('node'))).body, /from a staged dependency/);
  });

  it('refuses at deploy an app no builder can stage, saying what was looked for', async () => {
    const res = await fetch(`${url}/api/v1/services/${DEPT}/node/deployments`, { method: 'POST' }).catch(
      () => null,
    );
    assert.ok(res);
    const app = folder({ 'requirements.txt': 'flask\n', 'app.py': 'print(1)\n' });
    const up = await uploadBundle(url, token, `${DEPT}/node`, app);
    assert.equal(up.status, 422);
    assert.match(up.json.detail, /requirements\.txt or pyproject\.toml needs a Procfile web: line/);
  });

  it('gives each instance its own writable folder, fresh from the droplet on each release, removed when it stops', async () => {
    await service('files');
    // Each instance reads the file the bundle shipped, then writes its own index under the same
    // name; a request reads the file back. With a shared folder, one instance would read the other's.
    const app = folder({
      Procfile: 'web: node files.js\n',
      'state.txt': 'from the droplet',
      'files.js': [
        "const fs = require('node:fs');",
        "const initial = fs.readFileSync('state.txt', 'utf8');",
        'const me = process.env.GOVHOST_INSTANCE_INDEX;',
        "fs.writeFileSync('state.txt', `instance ${me}`);",
        "require('node:http').createServer((q, s) => s.end(JSON.stringify({ me, initial, now: fs.readFileSync('state.txt', 'utf8'), cwd: process.cwd() }))).listen(process.env.PORT);",
        '',
      ].join('\n'),
      'manifest.yml': 'applications:\n  - name: files\n    instances: 2\n',
    });
    const { deployment } = await deployDir(url, api, token, `${DEPT}/files`, app);
    assert.equal(deployment.state, 'succeeded', deployment.message);
    /** Answers through the router until both instances have answered; by instance index. */
    const both = async () => {
      const seen = new Map<string, { me: string; initial: string; now: string; cwd: string }>();
      await untilServed(routerUrl, host('files'), (r) => {
        if (r.status === 200) {
          const j = JSON.parse(r.body);
          seen.set(j.me, j);
        }
        return seen.size === 2;
      });
      return [...seen.values()];
    };
    const first = await both();
    for (const i of first) {
      assert.equal(i.initial, 'from the droplet');
      assert.equal(i.now, `instance ${i.me}`, 'an instance read another’s file');
    }
    assert.notEqual(first[0]!.cwd, first[1]!.cwd);
    // A new release (a variable change: the same droplet) starts from the droplet's content again,
    // and the stopped instances' folders are gone.
    const env = await api('PATCH', `/services/${DEPT}/files/env`, { set: { AGAIN: '1' } });
    assert.equal((await waitDeployment(api, `${DEPT}/files`, env.json.deployment.id)).state, 'succeeded');
    const second = await both();
    for (const i of second) {
      assert.equal(i.initial, 'from the droplet');
      assert.ok(!first.some((f) => f.cwd === i.cwd));
    }
    for (const f of first) assert.equal(existsSync(f.cwd), false, `${f.cwd} is still there`);
    for (const i of second) assert.equal(existsSync(i.cwd), true);
  });

  it('stages a Python app from requirements.txt into a virtual environment and serves it', async () => {
    const pkg = folder({
      'setup.py':
        "from setuptools import setup\nsetup(name='govhost-pygreet', version='1.0', py_modules=['pygreet'])\n",
      'pygreet.py': "def greet(who):\n    return f'Hello, {who}, from a staged wheel'\n",
    });
    const wheels = join(work, 'wheels');
    mkdirSync(wheels, { mode: 0o755 });
    execFileSync(
      PYTHON,
      ['-m', 'pip', 'wheel', '--no-build-isolation', '--no-deps', '-q', '-w', wheels, pkg],
      {
        env: { PATH: '/usr/bin:/bin', HOME: work },
      },
    );
    await service('py');
    const set = await api('PATCH', `/services/${DEPT}/py/env`, {
      set: { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels },
    });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const app = folder({
      'requirements.txt': 'govhost-pygreet==1.0\n',
      Procfile: 'web: python app.py\n',
      'app.py': [
        'import os, sys',
        'from http.server import BaseHTTPRequestHandler, HTTPServer',
        'from pygreet import greet',
        'class H(BaseHTTPRequestHandler):',
        '    def do_GET(self):',
        "        body = f\"{greet('citizen')} in {os.environ.get('VIRTUAL_ENV')} {sys.prefix}\".encode()",
        '        self.send_response(200); self.end_headers(); self.wfile.write(body)',
        "HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()",
        '',
      ].join('\n'),
    });
    const { upload, deployment } = await deployDir(url, api, token, `${DEPT}/py`, app);
    assert.match(upload.builder, /^python: a virtual environment, pip install -r requirements.txt$/);
    assert.equal(deployment.state, 'succeeded', deployment.message);
    const res = await untilServed(routerUrl, host('py'), (r) => r.status === 200);
    assert.match(res.body, /Hello, citizen, from a staged wheel in (\S+)\/\.venv \1\/\.venv/);
    assert.match((await stagingLog('py')).text, /\$ python -m pip install/);
  });
});
