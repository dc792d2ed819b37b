// Recovery of the local supervisor after kill -9: the time from the kill to the next HTTP 200
// on the instance's port, from a new server process.
// Usage: node --import ./bin/ts-loader.mjs bench/recovery.mjs [rounds=20]
//
// Each round uses a fresh instance, so that every kill is the first crash of a healthy instance:
// the one the supervisor restarts at once (a second crash within a minute waits 0.5 s, on
// purpose). The kill is SIGKILL to the instance's whole process group, its shell and its server.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSupervisor } from '../src/runtime/local/index.ts';

const rounds = Number(process.argv[2] ?? 20);
const POLL_MS = 5;
const LIMIT_MS = 10_000;

const root = mkdtempSync(join(tmpdir(), 'govhost-bench-recovery-'));
writeFileSync(
  join(root, 'server.js'),
  "require('node:http').createServer((q, s) => s.end(String(process.pid))).listen(Number(process.env.PORT));\n",
);

/** GET / on loopback, no keep-alive; resolves with the body on a 200, else null. */
function get(port) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 200 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 ? body : null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls until a 200 whose body is not `oldBody`; the time it came, or an error after LIMIT_MS. */
async function nextServed(port, oldBody, since) {
  while (performance.now() - since < LIMIT_MS) {
    const body = await get(port);
    if (body !== null && body !== oldBody) return performance.now();
    await sleep(POLL_MS);
  }
  throw new Error(`not serving within ${LIMIT_MS} ms`);
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Reference: the same server spawned by hand, from spawn to its first 200. What the supervisor
// adds to recovery is the difference.
const bare = [];
for (let i = 0; i < rounds; i++) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['server.js'], {
    cwd: root,
    env: { PORT: String(port) },
    stdio: 'ignore',
  });
  try {
    bare.push((await nextServed(port, null, t0)) - t0);
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}

const sup = new LocalSupervisor({ stateDir: join(root, 'state'), logDir: join(root, 'logs') });
const toServe = [];
const toHealthy = [];
let limits;
try {
  for (let i = 0; i < rounds; i++) {
    const spec = {
      instanceId: `bench-recovery-${i}`,
      serviceId: 'bench',
      serviceKey: 'BENCH/recovery',
      releaseId: 'r1',
      workDir: root,
      command: `${process.execPath} server.js`,
      env: {},
      memoryMb: 128,
      cpu: 1,
      healthCheck: { type: 'http', endpoint: '/', startTimeoutSec: 20, intervalMs: 1000 },
    };
    const started = await sup.start(spec);
    limits = started.limits;
    await sup.waitHealthy(spec.instanceId);
    const oldBody = await get(started.port);
    const healthyAgain = new Promise((resolve) => {
      const onChange = (s) => {
        if (s.instanceId === spec.instanceId && s.state === 'healthy' && s.restarts === 1) {
          sup.off('change', onChange);
          resolve(performance.now());
        }
      };
      sup.on('change', onChange);
    });

    const killedAt = performance.now();
    process.kill(-started.pid, 'SIGKILL');
    toServe.push((await nextServed(started.port, oldBody, killedAt)) - killedAt);
    toHealthy.push((await healthyAgain) - killedAt);
    await sup.stop(spec.instanceId, 2000);
  }
} finally {
  await sup.stopAll(2000);
  rmSync(root, { recursive: true, force: true });
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { median: at(0.5), p90: at(0.9), max: s.at(-1) };
};
const fmt = ({ median, p90, max }) =>
  `median ${median.toFixed(0)} ms, p90 ${p90.toFixed(0)} ms, max ${max.toFixed(0)} ms`;
console.log(
  `recovery after kill -9, ${rounds} rounds (Node ${process.version}, ${cpus().length} CPUs, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})`,
);
console.log(
  `  limits: memory ${limits.memory}, cpu ${limits.cpu}${limits.reason ? ` (${limits.reason})` : ''}`,
);
console.log(`  kill -> next HTTP 200:        ${fmt(stats(toServe))}`);
console.log(`  kill -> supervisor 'healthy': ${fmt(stats(toHealthy))}`);
console.log(`  reference, bare spawn -> first HTTP 200 (no supervisor): ${fmt(stats(bare))}`);
