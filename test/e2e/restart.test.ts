// test-seconds: 63
// The real `govhost` command in child processes on one PGlite data folder: first start, kill -9,
// restart, the data-folder lock, a clean SIGTERM stop and `govhost admin reset`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/govhost.mjs', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'govhost-e2e-'));
const lockFile = join(dataDir, 'govhost.pid');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  GOVHOST_DATA_DIR: dataDir,
  GOVHOST_PORT: '0',
  GOVHOST_ROUTER_PORT: '0',
  GOVHOST_ROUTER_ADMIN_PORT: '0',
  GOVHOST_HOST: '127.0.0.1',
  GOVHOST_LOG_LEVEL: 'info',
  // Service users (made as root) with the run's prefix: the test runner removes them at its end.
  ...(process.env.GOVHOST_TEST_SERVICE_USER_PREFIX
    ? { GOVHOST_SERVICE_USER_PREFIX: process.env.GOVHOST_TEST_SERVICE_USER_PREFIX }
    : {}),
};
delete env.DATABASE_URL;
delete env.GOVHOST_CONFIG;

interface Run {
  child: ChildProcess;
  pid: number;
  out: string;
  err: string;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
const running = new Set<Run>();

function launch(...args: string[]): Run {
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = {
    child,
    pid: child.pid ?? 0,
    out: '',
    err: '',
    closed: new Promise((resolve) =>
      child.on('close', (code, signal) => {
        running.delete(run);
        resolve({ code, signal });
      }),
    ),
  };
  running.add(run);
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    run.out += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    run.err += s;
  });
  return run;
}

/** Polls `find` until it returns a value; fails when the process ends first or `ms` pass. */
async function waitFor<T>(run: Run, find: () => T | null | undefined, what: string, ms = 60_000): Promise<T> {
  let ended = false;
  void run.closed.then(() => {
    ended = true;
  });
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    const found = find();
    if (found != null) return found;
    if (ended) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${what} from pid ${run.pid}\nstdout:\n${run.out}\nstderr:\n${run.err}`);
}

/** The `url` of the pino line "GovHost is ready", once that whole line has arrived. */
const readyUrl = (out: string) =>
  out
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; url?: string })
    .find((l) => l.msg === 'GovHost is ready')?.url;
const printedToken = (out: string) => /^ {4}token: (ghk_[\w-]+)$/m.exec(out)?.[1];

async function server(): Promise<Run & { url: string; readyMs: number }> {
  const started = Date.now();
  const run = launch('server');
  const url = await waitFor(run, () => readyUrl(run.out), '"GovHost is ready" line');
  return Object.assign(run, { url, readyMs: Date.now() - started });
}

async function api(url: string, token: string, method: string, path: string, body?: object) {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
}

describe('govhost server on a PGlite data folder, as real processes', () => {
  let first: Awaited<ReturnType<typeof server>>;
  let second: Awaited<ReturnType<typeof server>>;
  let token = '';

  after(async () => {
    await Promise.all(
      [...running].map((run) => {
        run.child.kill('SIGKILL');
        return run.closed;
      }),
    );
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the first-admin token on first start and serves the API with it', async () => {
    first = await server();
    token = await waitFor(first, () => printedToken(first.out), 'first-admin token');
    const dept = { code: 'E2E', nameEn: 'End to End', nameZh: '端對端' };
    assert.equal((await api(first.url, token, 'POST', '/departments', dept)).status, 201);
    const service = { department: 'E2E', slug: 'renew-licence', nameEn: 'Renew', nameZh: '續期' };
    const res = await api(first.url, token, 'POST', '/services', {
      ...service,
      origin: 'new',
      channels: ['web'],
      slaTier: 'silver',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  it('refuses a second server on the same data folder while the first runs', async () => {
    const other = launch('server');
    const { code } = await other.closed;
    assert.notEqual(code, 0);
    assert.match(other.err, new RegExp(`in use by GovHost process ${first.pid}\\b`));
    assert.equal(readFileSync(lockFile, 'utf8'), String(first.pid));
    assert.equal((await api(first.url, token, 'GET', '/me')).status, 200);
  });

  it('comes back after kill -9 with its data, its token and an intact audit chain', async (t) => {
    first.child.kill('SIGKILL');
    assert.equal((await first.closed).signal, 'SIGKILL');
    second = await server();
    // Reported, not asserted: start-up time is a benchmark figure (it varies 3-15 s with load);
    // `server()` itself fails on a hang.
    t.diagnostic(`first start ready in ${first.readyMs} ms, restart in ${second.readyMs} ms`);
    assert.equal((await api(second.url, token, 'GET', '/me')).body.username, 'admin');
    assert.equal((await api(second.url, token, 'GET', '/departments/E2E')).body.nameZh, '端對端');
    const svc = await api(second.url, token, 'GET', '/services/E2E/renew-licence');
    assert.equal(svc.status, 200);
    assert.equal(svc.body.slaTier, 'silver');
    const verify = await api(second.url, token, 'POST', '/audit/verify');
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body));
    assert.ok(Number(verify.body.records) >= 3);
    assert.equal(printedToken(second.out), undefined);
  });

  it('admin reset refuses while the server runs, naming its process', async () => {
    const reset = launch('admin', 'reset');
    assert.notEqual((await reset.closed).code, 0);
    assert.equal(reset.err.trimEnd().split('\n').length, 1, reset.err);
    assert.match(reset.err, new RegExp(`process ${second.pid}\\b`));
    assert.equal(printedToken(reset.out), undefined);
  });

  it('stops on SIGTERM with exit code 0 and releases the lock', async () => {
    second.child.kill('SIGTERM');
    assert.deepEqual(
      await second.closed,
      { code: 0, signal: null },
      `stdout:\n${second.out.slice(-4000)}\nstderr:\n${second.err.slice(-4000)}`,
    );
    assert.equal(existsSync(lockFile), false);
    assert.equal(printedToken(second.out), undefined, 'a restart must not print a token');
  });

  it('admin reset then issues a new token that replaces the old one', async () => {
    const reset = launch('admin', 'reset');
    assert.equal((await reset.closed).code, 0, reset.err);
    const fresh = printedToken(reset.out);
    assert.ok(fresh && fresh !== token, reset.out);
    assert.equal(existsSync(lockFile), false);

    const third = await server();
    assert.equal((await api(third.url, fresh, 'GET', '/me')).status, 200);
    assert.equal((await api(third.url, token, 'GET', '/me')).status, 401);
    assert.equal((await api(third.url, fresh, 'POST', '/audit/verify')).body.ok, true);
    third.child.kill('SIGTERM');
    assert.equal((await third.closed).code, 0);
    assert.equal(printedToken(third.out), undefined);
  });
});
