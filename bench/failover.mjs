#!/usr/bin/env node
// Failover of the runtime lease: the holder killed with SIGKILL → the lease taken by another
// replica → the next probe of a deployed service, over several rounds.
//
// Usage: DATABASE_URL=postgres://user:pass@127.0.0.1:5432/postgres node bench/failover.mjs [--rounds N]
//   (default 10; the user must be allowed to create databases: a fresh one is made and dropped)
//
// Method: two `govhost server` replicas on a new PostgreSQL database, sharing a data folder (as
// replicas on one host do), probes every second; the Node example deployed. Each round kills the
// lease holder with SIGKILL, polls the leases table every 10 ms until another replica holds the
// runtime lease, then polls the new holder's metrics API every 10 ms until its last probe is newer
// than the kill, and starts the killed replica again. Prints each round and the medians, with the
// load average before and after.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

await import('../bin/ts-loader.mjs');
const { stopLeftServices } = await import('../src/test-support/left-services.ts');

const i = process.argv.indexOf('--rounds');
const ROUNDS = i > 0 ? Number(process.argv[i + 1]) : 10;
const base = process.env.DATABASE_URL;
if (!base || !Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 50) {
  console.error('usage: DATABASE_URL=postgres://… node bench/failover.mjs [--rounds N]   (1 to 50)');
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'govhost.mjs');
const work = mkdtempSync(join(tmpdir(), 'govhost-bench-failover-'));
const dbName = `govhost_bench_${randomBytes(6).toString('hex')}`;
const loadBefore = loadavg()[0];

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const until = async (what, check, ms = 60_000, every = 10) => {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    const v = await check().catch(() => null);
    if (v) return v;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what}`);
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`create database ${dbName}`);
const url = new URL(base);
url.pathname = `/${dbName}`;
const db = new pg.Client({ connectionString: url.toString() });
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith('GOVHOST_') && !k.startsWith('npm_') && k !== 'DATABASE_URL',
  ),
);
Object.assign(env, {
  DATABASE_URL: url.toString(),
  GOVHOST_DATA_DIR: join(work, 'data'),
  GOVHOST_ROUTER_PORT: String(await freePort()),
  GOVHOST_ROUTER_ADMIN_PORT: String(await freePort()),
  GOVHOST_PROBE_INTERVAL_MS: '1000',
  GOVHOST_LOG_LEVEL: 'warn',
});

/** Starts a replica; resolves once it answers, with its process and printed token (first start). */
async function replica(port) {
  const child = spawn(process.execPath, [bin, 'server'], {
    env: { ...env, GOVHOST_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', () => {});
  await until(
    'a replica to answer',
    async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
    120_000,
    100,
  );
  return { child, port, token: /^ {4}token: (ghk_[\w-]+)$/m.exec(out)?.[1] ?? null };
}

const replicas = [];
try {
  replicas.push(await replica(await freePort()));
  await db.connect();
  replicas.push(await replica(await freePort()));
  const token = replicas[0].token;
  const call = async (port, method, path, body) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return res.json();
  };
  const p0 = replicas[0].port;
  await call(p0, 'POST', '/departments', { code: 'FO', nameEn: 'Failover', nameZh: '故障轉移' });
  await call(p0, 'POST', '/services', {
    department: 'FO',
    slug: 'hello',
    nameEn: 'hello',
    nameZh: 'hello',
    origin: 'new',
    channels: ['web'],
    slaTier: 'silver',
  });
  const app = mkdtempSync(join(work, 'app-'));
  cpSync(join(root, 'examples', 'apps', 'node-hello'), app, { recursive: true });
  const deploy = spawn(
    process.execPath,
    [bin, '--url', `http://127.0.0.1:${p0}`, '--token', token, 'deploy', '--service', 'FO/hello', app],
    {
      env: { ...env, GOVHOST_CLI_CONFIG: '/nonexistent/credentials.json' },
      stdio: 'ignore',
    },
  );
  await new Promise((r) => deploy.on('close', r));
  const holderPid = async () => {
    const r = await db.query(`select holder from leases where name = 'runtime' and expires_at > now()`);
    return r.rows[0] ? Number(String(r.rows[0].holder).split(':')[1]) : null;
  };
  await until('a probe of the deployed service', async () => {
    for (const r of replicas) {
      const m = await call(r.port, 'GET', '/services/FO/hello/metrics').catch(() => null);
      if (m?.current?.lastProbe) return true;
    }
    return false;
  });
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const pid = await until('a lease holder', holderPid);
    const holder = replicas.find((r) => r.child.pid === pid);
    const killed = Date.now();
    holder.child.kill('SIGKILL');
    await new Promise((r) => holder.child.on('close', r));
    const next = await until('the lease taken', async () => {
      const p = await holderPid();
      return p && p !== pid ? replicas.find((r) => r.child.pid === p) : null;
    });
    const leaseMs = Date.now() - killed;
    const probeAt = await until('the next probe', async () => {
      const at = (await call(next.port, 'GET', '/services/FO/hello/metrics')).current?.lastProbe?.at;
      return at > killed ? at : null;
    });
    const probeMs = probeAt - killed;
    rounds.push({ leaseMs, probeMs });
    console.log(`round ${round}: lease taken after ${leaseMs} ms, next probe after ${probeMs} ms`);
    replicas.splice(replicas.indexOf(holder), 1, await replica(holder.port));
  }
  console.log(
    `\nmedian of ${ROUNDS}: lease taken ${median(rounds.map((r) => r.leaseMs))} ms, next probe ${median(rounds.map((r) => r.probeMs))} ms after kill -9` +
      `\nload average (1 min) before ${loadBefore.toFixed(2)}, after ${loadavg()[0].toFixed(2)}`,
  );
} finally {
  for (const r of replicas) r.child.kill('SIGTERM');
  await Promise.all(
    replicas.map((r) => new Promise((res) => (r.child.exitCode !== null ? res() : r.child.on('close', res)))),
  );
  // Replicas on PostgreSQL leave the router and instances running for the next holder.
  await stopLeftServices(join(work, 'data'));
  await db.end().catch(() => {});
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
  rmSync(work, { recursive: true, force: true });
}
