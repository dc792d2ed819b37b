#!/usr/bin/env node
// Deploy lead time with staging: the Express example (examples/apps/node-express, 68 packages and a
// build script) deployed through the whole platform with a cold and with a warm dependency cache,
// against the lead time of an app with nothing to stage (examples/apps/node-hello, prebuilt).
//
// Usage: node bench/staging-lead.mjs [--rounds N]     (default 3)
//
// Method: starts Verdaccio (src/test-support/npm-registry.ts, the project's own express tree, no
// uplinks) and a platform (`govhost server`, PGlite, router) on loopback in a temp folder with
// GOVHOST_NPM_REGISTRY pointing at it; every other host goes to a tripwire proxy, given to the
// builds as the service's proxy variables. Each round, each a fresh copy of its example (so a new
// bundle, never a reused droplet), runs `govhost deploy --no-follow` as a new process and polls the
// router every 2 ms until the new release answers 200:
//   - prebuilt: node-hello, until its body has the round's VERSION;
//   - cold: node-express with `--no-cache` (npm ci from the registry with an empty npm cache, npm
//     run build, npm prune), until /build-info shows a new builtAt;
//   - warm: node-express with the cache its last staging filled (no npm ci, no npm prune; npm run
//     build still runs).
// The staging time is the droplet's own (`staged in X s` in the staging log). Prints medians and
// the load average before and after.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'tsx/esm/api';

register();
const { startNpmRegistry } = await import('../src/test-support/npm-registry.ts');
const { startEgressTripwire, LOOPBACK_NO_PROXY } = await import('../src/test-support/egress-tripwire.ts');

const i = process.argv.indexOf('--rounds');
const ROUNDS = i > 0 ? Number(process.argv[i + 1]) : 3;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 50) {
  console.error('usage: node bench/staging-lead.mjs [--rounds N]   (1 to 50)');
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'govhost.mjs');
const work = mkdtempSync(join(tmpdir(), 'govhost-bench-staging-'));
const loadBefore = loadavg()[0];
const tripwire = await startEgressTripwire();
const registry = await startNpmRegistry({ packages: ['express'] });
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !k.startsWith('GOVHOST_') && !k.startsWith('npm_') && k !== 'DATABASE_URL',
  ),
);
Object.assign(env, {
  GOVHOST_DATA_DIR: join(work, 'data'),
  GOVHOST_PORT: '0',
  GOVHOST_ROUTER_PORT: '0',
  GOVHOST_ROUTER_ADMIN_PORT: '0',
  GOVHOST_LOG_LEVEL: 'info',
  GOVHOST_CLI_CONFIG: join(work, 'cli.json'),
  GOVHOST_NPM_REGISTRY: registry.url,
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

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
  setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 90_000);
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
/** Status and body of one request through the router. */
const get = (host, path) =>
  new Promise((resolve) => {
    const req = http.request(
      { host: router.hostname, port: router.port, path, headers: { host }, agent: false },
      (res) => {
        let b = '';
        res.setEncoding('utf8').on('data', (d) => (b += d));
        res.on('end', () => resolve({ status: res.statusCode, body: b }));
      },
    );
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.setTimeout(2000, () => req.destroy());
    req.end();
  });
async function until(host, path, t0, ok) {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
    const r = await get(host, path);
    if (r.status === 200 && ok(r.body)) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`${host}${path} not served within 120 s`);
}
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

await api('POST', '/departments', { code: 'BEN', nameEn: 'Bench', nameZh: '測試' });
for (const slug of ['hello', 'express']) {
  await api('POST', '/services', {
    department: 'BEN',
    slug,
    nameEn: slug,
    nameZh: slug,
    origin: 'new',
    channels: ['web'],
    slaTier: 'silver',
  });
  await api('PATCH', `/services/BEN/${slug}/env`, {
    set: {
      npm_config_proxy: tripwire.url,
      npm_config_https_proxy: tripwire.url,
      npm_config_noproxy: LOOPBACK_NO_PROXY,
    },
  });
}

const stagedIn = async () => {
  const log = await api('GET', '/services/BEN/express/staging-log?offset=0');
  return Number(/staged in ([\d.]+) s/.exec(log.text)?.[1]) * 1000;
};
let lastBuilt = '';
/** Deploys a fresh copy of node-express; the lead time and the staging's own time. */
async function express(round, kind) {
  const dir = join(work, `express-${kind}-${round}`);
  cpSync(join(root, 'examples/apps/node-express'), dir, {
    recursive: true,
    filter: (s) => !/[/\\](node_modules|dist)$/.test(s),
  });
  writeFileSync(join(dir, 'ROUND.txt'), `${kind} ${round}`);
  const t0 = performance.now();
  const deploying = cli([
    'deploy',
    dir,
    '--service',
    'BEN/express',
    '--no-follow',
    ...(kind === 'cold' ? ['--no-cache'] : []),
  ]);
  const ms = await until('express.ben.localhost', '/build-info', t0, (b) => {
    const built = JSON.parse(b).builtAt;
    if (built === lastBuilt) return false;
    lastBuilt = built;
    return true;
  });
  await deploying;
  return { lead: ms, staging: await stagedIn() };
}

const rows = { prebuilt: [], cold: [], warm: [], coldStaging: [], warmStaging: [] };
for (let r = 0; r < ROUNDS; r++) {
  const dir = join(work, `hello-${r}`);
  cpSync(join(root, 'examples/apps/node-hello'), dir, { recursive: true });
  writeFileSync(join(dir, 'VERSION'), `bench-${r}`);
  const t0 = performance.now();
  const deploying = cli(['deploy', dir, '--service', 'BEN/hello', '--no-follow']);
  rows.prebuilt.push(await until('hello.ben.localhost', '/', t0, (b) => b.includes(`bench-${r}`)));
  await deploying;
  const cold = await express(r, 'cold');
  rows.cold.push(cold.lead);
  rows.coldStaging.push(cold.staging);
  const warm = await express(r, 'warm');
  rows.warm.push(warm.lead);
  rows.warmStaging.push(warm.staging);
}
const attempts = tripwire.attempts();

server.kill('SIGTERM');
await new Promise((r) => server.on('close', r));
await registry.close();
await tripwire.close();
rmSync(work, { recursive: true, force: true });
if (attempts.length) {
  console.error(`something tried to leave the machine: ${attempts.join(', ')}`);
  process.exit(1);
}
const f = (xs) => `${median(xs).toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join(' ')})`;
const m = (k) => median(rows[k]);
console.log(
  `load average (1 min): ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after; ${ROUNDS} rounds`,
);
console.log(`lead time, prebuilt node-hello (no staging):  ${f(rows.prebuilt)}`);
console.log(`lead time, node-express, cold cache:          ${f(rows.cold)}`);
console.log(`lead time, node-express, warm cache:          ${f(rows.warm)}`);
console.log(`staging, node-express, cold cache:            ${f(rows.coldStaging)}`);
console.log(`staging, node-express, warm cache:            ${f(rows.warmStaging)}`);
console.log(
  `warm adds ${(m('warm') - m('prebuilt')).toFixed(0)} ms to the prebuilt lead time (x${(m('warm') / m('prebuilt')).toFixed(2)}); cold adds ${(m('cold') - m('prebuilt')).toFixed(0)} ms (x${(m('cold') / m('prebuilt')).toFixed(2)})`,
);
