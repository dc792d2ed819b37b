#!/usr/bin/env node
// Deploy lead time with staging: the Express example (examples/apps/node-express, 68 packages and a
// build script) deployed through the whole platform prebuilt (its node_modules vendored in the
// bundle, so nothing is staged), with a warm and with a cold dependency cache; and an app with
// nothing to stage at all (examples/apps/node-hello) as a reference.
//
// Usage: node bench/staging-lead.mjs [--rounds N] [--no-cold]     (default 5 rounds)
//
// Method: starts Verdaccio (src/test-support/npm-registry.ts, the project's own express tree, no
// uplinks) and a platform (`govhost server`, PGlite, router) on loopback in a temp folder with
// GOVHOST_NPM_REGISTRY pointing at it; every other host goes to a tripwire proxy, given to the
// builds as the service's proxy variables. Each round, each a fresh copy of its example (so a new
// bundle, never a reused droplet), runs `govhost deploy --no-follow` as a new process and polls the
// router every 2 ms until the new release answers 200; the kinds are interleaved in every round:
//   - hello: node-hello (no dependencies), until its body has the round's VERSION;
//   - vendored: node-express with node_modules and dist/ in the bundle (installed once with npm ci
//     from the registry, built, pruned) and `buildpacks: [binary_buildpack]`, so it is prebuilt
//     (and starts with `npm start`, as the staged one does), until /build-info shows a new builtAt
//     (written afresh each round);
//   - warm: node-express with the cache an earlier staging filled (no npm ci, no npm prune; the
//     build script still runs);
//   - cold: node-express with `--no-cache` (npm ci from the registry with an empty npm cache, the
//     build script, npm prune); left out with --no-cold.
// Each deploy starts once the one before has ended (its old instance stopped and removed).
// One cold deploy before the rounds fills the cache. Besides the lead times it prints where they
// went: the staging's own steps (its log's `staged in X s (...)` line), the rollout's phases (the
// platform's `serving … after its rollout began (...)` log line), the upload request's time, and
// the rest (CLI start-up and packing before the rollout; the router and this poll after it).
// Medians, with the load average before and after.
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

await import('../bin/ts-loader.mjs');
const { startNpmRegistry } = await import('../src/test-support/npm-registry.ts');
const { startEgressTripwire, LOOPBACK_NO_PROXY } = await import('../src/test-support/egress-tripwire.ts');

const i = process.argv.indexOf('--rounds');
const ROUNDS = i > 0 ? Number(process.argv[i + 1]) : 5;
const COLD = !process.argv.includes('--no-cold');
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 50) {
  console.error('usage: node bench/staging-lead.mjs [--rounds N] [--no-cold]   (1 to 50 rounds)');
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
/** The platform's JSON log lines, parsed as they come. */
const logLines = [];
let partial = '';
server.stdout.setEncoding('utf8').on('data', (d) => {
  out += d;
  const parts = (partial + d).split('\n');
  partial = parts.pop();
  for (const l of parts) {
    try {
      logLines.push(JSON.parse(l));
    } catch {
      // The token line and other plain text.
    }
  }
});
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

/** The staging's own time and steps, from its log's last `staged in X s (restore 0.20 s, …)` line. */
const stagedIn = async (slug) => {
  const log = await api('GET', `/services/BEN/${slug}/staging-log?offset=0`);
  const m = /staged in ([\d.]+) s \((.*)\)/.exec(log.text);
  if (!m) return { total: 0, steps: {} };
  const steps = Object.fromEntries(
    m[2].split(', ').map((p) => {
      const [, name, sec] = /^(.*) ([\d.]+) s$/.exec(p);
      return [name, Number(sec) * 1000];
    }),
  );
  return { total: Number(m[1]) * 1000, steps };
};
/** Waits (bounded) for the platform's log line saying the release serves, and the upload's time. */
async function rolloutOf(slug, since) {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const line = logLines.find((l) => l.service === `BEN/${slug}` && l.phases && l.startedAt >= since);
    if (line) {
      const upload = logLines.find(
        (l) => l.req?.method === 'POST' && l.req.url.includes(`/${slug}/deployments`) && l.time >= since,
      );
      const done = upload && logLines.find((l) => l.reqId === upload.reqId && l.responseTime !== undefined);
      return { ...line, upload: done?.responseTime ?? 0 };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no rollout line for ${slug}`);
}

// The vendored Express app, installed once as a department developer would before deploying it
// prebuilt: npm ci from the loopback registry, the build script, npm prune.
const vendoredSrc = join(work, 'express-vendored');
cpSync(join(root, 'examples/apps/node-express'), vendoredSrc, {
  recursive: true,
  filter: (s) => !/[/\\](node_modules|dist)$/.test(s),
});
const npmEnv = {
  ...env,
  npm_config_registry: registry.url,
  npm_config_cache: join(work, 'npm-cache'),
  npm_config_proxy: tripwire.url,
  npm_config_https_proxy: tripwire.url,
  npm_config_noproxy: LOOPBACK_NO_PROXY,
  npm_config_update_notifier: 'false',
};
const npm = join(process.execPath, '..', 'npm');
for (const args of [
  ['ci', '--no-audit', '--no-fund'],
  ['run', 'build'],
  ['prune', '--omit=dev'],
])
  await promisify(execFile)(npm, args, { cwd: vendoredSrc, env: npmEnv });
// Its .govhostignore leaves node_modules and dist out of the bundle: here they go in.
rmSync(join(vendoredSrc, '.govhostignore'));
writeFileSync(
  join(vendoredSrc, 'manifest.yml'),
  readFileSync(join(vendoredSrc, 'manifest.yml'), 'utf8').replace(
    '    health-check-type',
    '    buildpacks: [binary_buildpack]\n    health-check-type',
  ),
);

let lastBuilt = '';
const builtAtChanged = (b) => {
  const built = JSON.parse(b).builtAt;
  if (built === lastBuilt) return false;
  lastBuilt = built;
  return true;
};
/** Deploys a fresh copy of an app and returns its lead time and where it went. */
async function deploy(kind, round) {
  const slug = kind === 'hello' ? 'hello' : 'express';
  const dir = join(work, `${kind}-${round}`);
  if (kind === 'hello') {
    cpSync(join(root, 'examples/apps/node-hello'), dir, { recursive: true });
    writeFileSync(join(dir, 'VERSION'), `bench-${round}`);
  } else if (kind === 'vendored') {
    cpSync(vendoredSrc, dir, { recursive: true });
    // What the build script would write: a new builtAt, so the poll tells this release apart.
    const info = JSON.parse(readFileSync(join(dir, 'dist/build-info.json'), 'utf8'));
    writeFileSync(
      join(dir, 'dist/build-info.json'),
      JSON.stringify({ ...info, builtAt: new Date().toISOString() }),
    );
  } else {
    cpSync(join(root, 'examples/apps/node-express'), dir, {
      recursive: true,
      filter: (s) => !/[/\\](node_modules|dist)$/.test(s),
    });
  }
  writeFileSync(join(dir, 'ROUND.txt'), `${kind} ${round}`);
  const wall = Date.now();
  const t0 = performance.now();
  const deploying = cli([
    'deploy',
    dir,
    '--service',
    `BEN/${slug}`,
    '--no-follow',
    ...(kind === 'cold' ? ['--no-cache'] : []),
  ]);
  const lead = await (kind === 'hello'
    ? until('hello.ben.localhost', '/', t0, (b) => b.includes(`bench-${round}`))
    : until('express.ben.localhost', '/build-info', t0, builtAtChanged)
  ).catch(async (err) => {
    const last = await api('GET', `/services/BEN/${slug}/deployments`);
    throw new Error(`${kind} ${round}: ${err.message}; deployments: ${JSON.stringify(last).slice(0, 600)}`);
  });
  await deploying;
  const r = await rolloutOf(slug, wall);
  // The rollout goes on after the first 200 (the old instance drained, stopped, its folder
  // removed): the next deploy starts once it has ended, so that none pays for the one before.
  for (const deadline = Date.now() + 60_000; ; ) {
    const [last] = (await api('GET', `/services/BEN/${slug}/deployments`)).items;
    if (last.state !== 'running') break;
    if (Date.now() > deadline) throw new Error(`${kind} ${round}: the rollout did not end`);
    await new Promise((res) => setTimeout(res, 20));
  }
  const staging = await stagedIn(slug);
  rmSync(dir, { recursive: true, force: true });
  return {
    lead,
    staging: staging.total,
    steps: staging.steps,
    upload: r.upload,
    before: r.startedAt - wall,
    phases: r.phases,
    after: lead - (r.startedAt - wall) - r.ms,
  };
}

const KINDS = ['hello', 'vendored', 'warm', ...(COLD ? ['cold'] : [])];
const rows = Object.fromEntries(KINDS.map((k) => [k, []]));
await deploy('cold', 'fill');
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of KINDS) {
    const row = await deploy(kind, r);
    rows[kind].push(row);
    // Each deploy as it was measured, for whoever wants more than medians.
    if (process.env.BENCH_RAW) console.error(JSON.stringify({ kind, round: r, ...row }));
  }
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
const ms = (x) => `${x.toFixed(0)} ms`;
const med = (kind, pick) => median(rows[kind].map(pick));
console.log(
  `load average (1 min): ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after; ${ROUNDS} rounds, interleaved`,
);
for (const kind of KINDS) {
  const leads = rows[kind].map((x) => x.lead);
  console.log(
    `lead time, ${kind.padEnd(8)} ${ms(median(leads))} (${leads.map((x) => x.toFixed(0)).join(' ')})`,
  );
}
const diff = med('warm', (x) => x.lead) - med('vendored', (x) => x.lead);
console.log(
  `warm adds ${ms(diff)} to the lead time of the same app prebuilt (goal: under 1000 ms: ${diff < 1000 ? 'met' : 'not met'})`,
);
if (COLD) {
  const cold = med('cold', (x) => x.lead) - med('vendored', (x) => x.lead);
  console.log(`cold adds ${ms(cold)} (goal: under 20000 ms: ${cold < 20000 ? 'met' : 'not met'})`);
}
console.log('\nwhere the time went (medians, ms):');
const names = (pick) => [...new Set(KINDS.flatMap((k) => rows[k].flatMap((x) => Object.keys(pick(x)))))];
const cols = [
  ['cli + upload until rollout', (x) => x.before],
  ['  of which upload request', (x) => x.upload],
  ...names((x) => x.phases).map((n) => [`rollout: ${n}`, (x) => x.phases[n] ?? 0]),
  ...names((x) => x.steps).map((n) => [`  staging: ${n}`, (x) => x.steps[n] ?? 0]),
  ['router + poll after routes', (x) => x.after],
  ['lead time', (x) => x.lead],
];
console.log(['step'.padEnd(30), ...KINDS.map((k) => k.padStart(9))].join(''));
for (const [name, pick] of cols)
  console.log([name.padEnd(30), ...KINDS.map((k) => med(k, pick).toFixed(0).padStart(9))].join(''));
