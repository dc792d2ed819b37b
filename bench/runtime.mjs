#!/usr/bin/env node
// Deploy lead time and recovery time of the local runtime, end to end through the router.
// Usage: node bench/runtime.mjs [--deploys N] [--kills N]
// Starts its own platform on loopback in a temp folder and removes it afterwards.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DEPLOYS = arg('--deploys', 7);
const KILLS = arg('--kills', 20);
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'govhost.mjs');
const work = mkdtempSync(join(tmpdir(), 'govhost-bench-'));
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('GOVHOST_') && k !== 'DATABASE_URL'),
);
Object.assign(env, {
  GOVHOST_DATA_DIR: join(work, 'data'),
  GOVHOST_PORT: '0',
  GOVHOST_ROUTER_PORT: '0',
  GOVHOST_ROUTER_ADMIN_PORT: '0',
  GOVHOST_LOG_LEVEL: 'info',
  GOVHOST_CLI_CONFIG: join(work, 'cli.json'),
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

const server = spawn(process.execPath, [bin, 'server'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
server.stdout.setEncoding('utf8').on('data', (d) => (out += d));
const ready = await new Promise((resolve, reject) => {
  const t = setInterval(() => {
    const line = out.split('\n').find((l) => l.includes('"GovHost is ready"'));
    if (line) {
      clearInterval(t);
      resolve(JSON.parse(line));
    }
  }, 20);
  setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 60_000);
});
const token = /token: (ghk_[\w-]+)/.exec(out)[1];
const router = new URL(ready.routerUrl);

const api = async (method, path, body) => {
  const res = await fetch(`${ready.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return res.json();
};
const get = (host) =>
  new Promise((resolve) => {
    const req = http.request(
      { host: router.hostname, port: router.port, path: '/', headers: { host }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
    req.end();
  });
/** Milliseconds from `t0` until `host` answers 200 whose body has `marker` (bounded). */
async function until200(host, t0, check = async () => true) {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if ((await get(host)) === 200 && (await check())) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`${host} not served within 30 s`);
}

await api('POST', '/departments', { code: 'BEN', nameEn: 'Bench', nameZh: '測試' });
await api('POST', '/services', {
  department: 'BEN',
  slug: 'node',
  nameEn: 'n',
  nameZh: 'n',
  origin: 'new',
  channels: ['web'],
  slaTier: 'silver',
});
const host = 'node.ben.localhost';
const cli = (args) =>
  new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [bin, '--url', ready.url, '--token', token, ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(err))));
  });

// Deploy lead time: `govhost deploy` of the Node example until the new release answers 200.
const leads = [];
for (let i = 0; i < DEPLOYS; i++) {
  const dir = join(work, `app${i}`);
  cpSync(join(root, 'examples/apps/node-hello'), dir, { recursive: true });
  writeFileSync(join(dir, 'VERSION'), `bench-${i}`);
  const t0 = performance.now();
  const deploying = cli(['deploy', dir, '--service', 'BEN/node', '--no-follow']);
  const ms = await until200(host, t0, async () => {
    const body = await new Promise((resolve) => {
      http
        .get({ host: router.hostname, port: router.port, path: '/', headers: { host } }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d)).on('end', () => resolve(b));
        })
        .on('error', () => resolve(''));
    });
    return body.includes(`bench-${i}`);
  });
  await deploying;
  leads.push(ms);
}

// Recovery: kill -9 of the lone instance until the next 200 through the router.
const recoveries = [];
for (let i = 0; i < KILLS; i++) {
  const status = await api('GET', '/services/BEN/node/status');
  const inst = status.instances.find((x) => x.state === 'healthy');
  if (!inst) {
    await new Promise((r) => setTimeout(r, 200));
    i--;
    continue;
  }
  const t0 = performance.now();
  // The whole process group, as when the app itself crashes (the pid is its shell).
  process.kill(-inst.pid, 'SIGKILL');
  // The first answers may still come from the dying process' last moments: wait for a refusal first.
  recoveries.push(await until200(host, t0));
  // Each round is a lone crash of a fresh instance: a new instance (scale 0 -> 1) starts with a
  // clean restart history, as an instance that has run for a while has.
  for (const instances of [0, 1]) {
    const d = await api('POST', '/services/BEN/node/scale', { instances });
    while ((await api('GET', `/services/BEN/node/deployments/${d.id}`)).state === 'running')
      await new Promise((r) => setTimeout(r, 50));
  }
  await until200(host, performance.now());
}

server.kill('SIGTERM');
await new Promise((r) => server.on('close', r));
rmSync(work, { recursive: true, force: true });

console.log('recoveries (ms):', recoveries.map((x) => x.toFixed(0)).join(' '));
const fmt = (xs) =>
  `median ${median(xs).toFixed(0)} ms, p90 ${pct(xs, 90).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (n=${xs.length})`;
console.log(`deploy lead time (govhost deploy -> first 200 of the new release): ${fmt(leads)}`);
console.log(`recovery (kill -9 of a lone instance -> next 200):                 ${fmt(recoveries)}`);
