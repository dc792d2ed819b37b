#!/usr/bin/env node
// The package manager's own time for the Express example (examples/apps/node-express), against the
// loopback npm registry the staging tests use: the lower bound that staging is compared with, since
// a staging with a cold cache cannot install faster than `npm ci` itself, nor one with a warm cache
// faster than `npm ci` from a full npm cache (a staging that skips npm on a cache hit beats it).
//
// Usage: node bench/staging.mjs [--rounds N]     (default 5 rounds: 80 s at load 7, 6 min at load 15)
//
// Method: starts Verdaccio (src/test-support/npm-registry.ts) with the project's own express tree
// published, and a tripwire proxy for every other host, so nothing comes from the internet. Each
// round copies the example (package.json, package-lock.json, build.js, server.js) into a fresh temp
// folder and times, with the real `npm` as staging runs it (Heroku's order):
//   - cold:  `npm ci` with an empty npm cache (every packument and tarball from the registry);
//   - warm:  `npm ci` again in a fresh copy, with the cache the cold run filled (npm still asks the
//            registry whether packuments changed);
//   - warm, offline-first: the same with `--prefer-offline` (no registry round trip when cached);
//   - build: `npm run build`, then `npm prune --omit=dev`, after the warm install.
// Prints median, p90 (nearest rank), min and max per step, the 1-minute load average before and
// after, and the registry's start-up time (not part of any step). Everything started is stopped and
// every temp folder removed at the end.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

await import('../bin/ts-loader.mjs');
const { startNpmRegistry, npmClientEnv } = await import('../src/test-support/npm-registry.ts');
const { startEgressTripwire } = await import('../src/test-support/egress-tripwire.ts');

const argOf = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ROUNDS = Number(argOf('--rounds') ?? 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 100) {
  console.error('usage: node bench/staging.mjs [--rounds N]   (1 to 100)');
  process.exit(2);
}

const root = new URL('..', import.meta.url).pathname;
const example = join(root, 'examples', 'apps', 'node-express');
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

/** Runs a command to its end (at most 5 minutes) and gives its wall time in ms; throws on failure. */
function timed(cmd, args, cwd, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s) => {
      err += s;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(' ')} ended with ${code ?? signal}\n${err}`));
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'govhost-bench-staging-'));
const load0 = loadavg()[0];
const t0 = performance.now();
const registry = await startNpmRegistry({ packages: ['express'] });
const startMs = performance.now() - t0;
const tripwire = await startEgressTripwire();
const steps = { cold: [], warm: [], 'warm, offline-first': [], 'build + prune': [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    const home = join(work, `home-${round}`);
    mkdirSync(home);
    const env = npmClientEnv({ registry: registry.url, home, proxy: tripwire.url });
    const copy = (name) => {
      const dir = join(work, `${name}-${round}`);
      cpSync(example, dir, { recursive: true, filter: (src) => !/[/\\](node_modules|dist)$/.test(src) });
      return dir;
    };
    steps.cold.push(await timed('npm', ['ci'], copy('cold'), env));
    const warm = copy('warm');
    steps.warm.push(await timed('npm', ['ci'], warm, env));
    steps['warm, offline-first'].push(await timed('npm', ['ci', '--prefer-offline'], copy('offline'), env));
    steps['build + prune'].push(
      (await timed('npm', ['run', 'build'], warm, env)) +
        (await timed('npm', ['prune', '--omit=dev'], warm, env)),
    );
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
  }
  if (tripwire.attempts().length > 0)
    throw new Error(`requests left loopback: ${tripwire.attempts().join(', ')}`);
} finally {
  await registry.close();
  await tripwire.close();
  rmSync(work, { recursive: true, force: true });
}

console.log(
  `npm ci of examples/apps/node-express (68 packages) against Verdaccio on loopback; ${ROUNDS} rounds; ` +
    `${cpus().length} CPUs; load ${load0.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`,
);
console.log(
  `registry start-up with the express tree published: ${Math.round(startMs)} ms (not in the steps)\n`,
);
console.log('| step | median | p90 | min | max |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, xs] of Object.entries(steps)) {
  const f = (v) => `${Math.round(v)} ms`;
  console.log(
    `| ${name} | ${f(pct(xs, 0.5))} | ${f(pct(xs, 0.9))} | ${f(Math.min(...xs))} | ${f(Math.max(...xs))} |`,
  );
}
