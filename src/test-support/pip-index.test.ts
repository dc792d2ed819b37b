/**
 * The loopback PEP 503 index that staging tests install Python packages from: Debian's pip, in a
 * venv made by Debian's python3, installs the Python example's requirements.txt from it, with
 * every other host behind a tripwire, so nothing can come from PyPI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeFailure, runCommand } from './command.ts';
import { type EgressTripwire, LOOPBACK_NO_PROXY, startEgressTripwire } from './egress-tripwire.ts';
import { freePort } from './free-port.ts';
import { normalizeProjectName, type PipIndex, startPipIndex } from './pip-index.ts';
import { bottleWheel, pipEnv, pythonToolsMissing, SYSTEM_PYTHON } from './python-wheels.ts';
import { until } from './until.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/apps/python-requirements/', import.meta.url));
const missing = pythonToolsMissing();

/** Proxy settings that send every host but loopback to `proxy`, as requests (pip) reads them. */
const proxied = (proxy: string) => ({
  http_proxy: proxy,
  https_proxy: proxy,
  HTTP_PROXY: proxy,
  HTTPS_PROXY: proxy,
  no_proxy: LOOPBACK_NO_PROXY,
  NO_PROXY: LOOPBACK_NO_PROXY,
});

describe('PEP 503 names', () => {
  it('normalises project names as pip asks for them', () => {
    assert.equal(normalizeProjectName('Friendly.Bard_Tools'), 'friendly-bard-tools');
    assert.equal(normalizeProjectName('bottle'), 'bottle');
  });
});

describe('loopback pip index', { skip: missing ?? false }, () => {
  let work: string;
  let wheel: string;
  let index: PipIndex;
  let tripwire: EgressTripwire;
  let venv: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'govhost-pip-index-test-'));
    wheel = await bottleWheel();
    index = await startPipIndex({ wheels: [wheel] });
    tripwire = await startEgressTripwire();
    venv = join(work, 'venv');
    const made = await runCommand(SYSTEM_PYTHON, ['-m', 'venv', venv], { cwd: work, env: pipEnv(work) });
    assert.equal(made.code, 0, describeFailure('python3 -m venv', made));
  });
  after(async () => {
    await index?.close();
    await tripwire?.close();
    await rm(work, { recursive: true, force: true });
  });

  const pip = (args: string[], cwd: string, env = pipEnv(work, proxied(tripwire.url))) =>
    runCommand(join(venv, 'bin/pip'), [...args, '--no-cache-dir'], { cwd, env });

  it('serves the simple index pages pip reads, with sha256 fragments', async () => {
    const root = await (await fetch(index.url)).text();
    assert.match(root, /<a href="bottle\/">bottle<\/a>/);
    const project = await fetch(new URL('Bottle', index.url), { redirect: 'manual' });
    assert.equal(project.status, 301);
    assert.equal(project.headers.get('location'), '/simple/bottle/');
    const links = await (await fetch(new URL('bottle/', index.url))).text();
    assert.match(links, new RegExp(`href="\\.\\./\\.\\./files/${basename(wheel)}#sha256=[0-9a-f]{64}"`));
    assert.equal((await fetch(new URL('left-pad/', index.url))).status, 404);
  });

  it("pip installs the Python example's requirements.txt from it into a venv, and the app serves", async () => {
    const app = join(work, 'app');
    await cp(EXAMPLE, app, { recursive: true });
    const r = await pip(['install', '-r', 'requirements.txt', '--index-url', index.url], app);
    assert.equal(r.code, 0, describeFailure('pip install', r));
    assert.deepEqual(index.filesServed(), [basename(wheel)]);
    assert.deepEqual(tripwire.attempts(), []);

    const where = await runCommand(
      join(venv, 'bin/python'),
      ['-c', 'import bottle; print(bottle.__version__); print(bottle.__file__)'],
      { cwd: app, env: pipEnv(work) },
    );
    const [version, file] = where.stdout.trim().split('\n');
    assert.equal(version, /bottle-([^-]+)-/.exec(basename(wheel))?.[1]);
    assert.ok(file?.startsWith(`${venv}/`), `bottle was loaded from ${file}, not from the venv`);

    // The example runs with the venv's python3 first on PATH, as its Procfile's `python3 app.py`.
    const port = await freePort();
    const child = spawn('/bin/sh', ['-c', 'python3 app.py'], {
      cwd: app,
      env: { PATH: `${join(venv, 'bin')}:/usr/bin:/bin`, PORT: String(port) },
      stdio: 'ignore',
    });
    try {
      const res = await until('the Python example to answer', () =>
        fetch(`http://127.0.0.1:${port}/api/greeting?name=GovHost`),
      );
      assert.deepEqual(await res.json(), { greeting: 'Hello, GovHost!', bottle: version });
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('a requirement the index does not have fails the install, naming it', async () => {
    const r = await pip(['install', 'govhost-no-such-package', '--index-url', index.url], work);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No matching distribution found for govhost-no-such-package/);
    assert.deepEqual(tripwire.attempts(), []);
  });

  it('the tripwire catches a request for any other index', async () => {
    const own = await startEgressTripwire();
    try {
      const r = await pip(
        [
          'download',
          'bottle',
          '--no-deps',
          '-d',
          work,
          '--index-url',
          'https://pypi.org/simple/',
          '--retries',
          '0',
        ],
        work,
        pipEnv(work, proxied(own.url)),
      );
      assert.notEqual(r.code, 0);
      assert.ok(own.attempts().includes('CONNECT pypi.org:443'), JSON.stringify(own.attempts()));
    } finally {
      await own.close();
    }
  });
});
