#!/usr/bin/env node
// Idle control-plane footprint with the paper's workload loaded (issue 14): memory and CPU of the
// `govhost server` process doing nothing but its own timers, on PGlite and on PostgreSQL, side by
// side in one run.
//
// Usage: node bench/idle.mjs [--seconds N] [--database-url postgres://user:pw@127.0.0.1/postgres]
//   --seconds       the idle window measured (default 60)
//   --database-url  a PostgreSQL server where this user may create databases (default
//                   GOVHOST_TEST_DATABASE_URL); without one, only PGlite is measured
//   --stores        pglite,postgres (default both)
//   --cpu-prof DIR  also write each server's CPU profile (node --cpu-prof) into DIR
//   --rounds N      measure each store N times (one after the other) and print the medians
//
// Method: for each store, a platform (`govhost server`, router, loopback, a temp data folder; a new
// database on PostgreSQL, dropped after) is started, `govhost workload load-paper` loads the 2011
// paper's workload (20 departments, 218 services, 22 farms), and the process is left alone for
// 15 s to settle. Then, over the window: CPU is the process's utime + stime from /proc/<pid>/stat,
// as % of one core over the window's wall time; RSS is read from /proc/<pid>/status every 5 s
// (median); at the end the process is sent SIGUSR2 and bench/idle-probe.mjs (preloaded with
// NODE_OPTIONS=--import) writes its process.memoryUsage(): the V8 heap, and `external`, where
// PGlite's WebAssembly memory lives (the rest of RSS is code: V8's, the TypeScript loader's hooks thread, WebAssembly's compiled). Prints the load average before and after.
// The server runs with the Node.js flags of the `govhost` command's shebang, as users run it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

await import('../bin/ts-loader.mjs');
const { stopLeftServices } = await import('../src/test-support/left-services.ts');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const SECONDS = Number(arg('--seconds', '60'));
const ADMIN_URL = arg('--database-url', process.env.GOVHOST_TEST_DATABASE_URL);
const STORES = arg('--stores', 'pglite,postgres').split(',');
const PROFILE_DIR = arg('--cpu-prof', null);
const ROUNDS = Number(arg('--rounds', '1'));
if (!Number.isInteger(SECONDS) || SECONDS < 5 || SECONDS > 3600 || !Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error('usage: node bench/idle.mjs [--seconds N (5 to 3600)] [--rounds N] [--database-url URL]');
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'govhost.mjs');
// `#!/usr/bin/env -S node <flags>`: the flags a control plane runs with.
const NODE_FLAGS = readFileSync(bin, 'utf8').split('\n')[0].split(' ').slice(3);
// Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on Linux.
const TICK = 100;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const mb = (b) => b / 1024 ** 2;

async function measure(store) {
  const work = mkdtempSync(join(tmpdir(), `govhost-bench-idle-${store}-`));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !k.startsWith('GOVHOST_') && !k.startsWith('npm_') && k !== 'DATABASE_URL' && k !== 'NODE_OPTIONS',
    ),
  );
  Object.assign(env, {
    GOVHOST_DATA_DIR: join(work, 'data'),
    GOVHOST_PORT: '0',
    GOVHOST_ROUTER_PORT: '0',
    GOVHOST_ROUTER_ADMIN_PORT: '0',
    GOVHOST_LOG_LEVEL: 'warn',
    GOVHOST_CLI_CONFIG: join(work, 'cli.json'),
    GOVHOST_IDLE_PROBE_DIR: work,
    NODE_OPTIONS: `--import=${pathToFileURL(join(root, 'bench', 'idle-probe.mjs'))}`,
  });
  let dbName = null;
  if (store === 'postgres') {
    dbName = `govhost_idle_${process.pid}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const u = new URL(ADMIN_URL);
    u.pathname = `/${dbName}`;
    env.DATABASE_URL = u.toString();
  }
  // The ready line is logged at info: read the first admin's token and the URL from stdout.
  env.GOVHOST_LOG_LEVEL = 'info';
  const prof = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const server = spawn(process.execPath, [...NODE_FLAGS, ...prof, bin, 'server'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Made at once: a server that exits early (a bad option) must still let `finally` clean up.
  const closed = new Promise((r) => server.on('close', r));
  let out = '';
  server.stdout.setEncoding('utf8').on('data', (d) => (out = (out + d).slice(-200_000)));
  try {
    let ready;
    for (const deadline = Date.now() + 120_000; !ready; await sleep(50)) {
      if (Date.now() > deadline) throw new Error(`no ready line:\n${out}`);
      const line = out.split('\n').find((l) => l.includes('"GovHost is ready"'));
      if (line) ready = JSON.parse(line);
    }
    const token = /token: (ghk_[\w-]+)/.exec(out)[1];
    const started = Date.now();
    await new Promise((resolve, reject) => {
      const c = spawn(
        process.execPath,
        [bin, '--url', ready.url, '--token', token, 'workload', 'load-paper'],
        {
          env: { ...env, NODE_OPTIONS: '' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(err))));
    });
    const loadSeconds = (Date.now() - started) / 1000;
    await sleep(15_000);
    const pid = server.pid;
    const rss = [rssMb(pid)];
    const t0 = performance.now();
    const c0 = cpuTicks(pid);
    for (let s = 5; s <= SECONDS; s += 5) {
      await sleep(5000);
      rss.push(rssMb(pid));
    }
    const cpu = ((cpuTicks(pid) - c0) / TICK / ((performance.now() - t0) / 1000)) * 100;
    const probe = join(work, `${pid}.json`);
    process.kill(pid, 'SIGUSR2');
    for (let i = 0; i < 100 && !existsSync(probe); i++) await sleep(50);
    const mem = JSON.parse(readFileSync(probe, 'utf8'));
    return { store, loadSeconds, cpu, rss: median(rss), mem };
  } finally {
    server.kill('SIGTERM');
    await closed;
    // A server on PostgreSQL leaves its router running for the next holder of the runtime lease.
    if (store === 'postgres') await stopLeftServices(join(work, 'data'));
    if (dbName) {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    }
    rmSync(work, { recursive: true, force: true });
  }
}

const loadBefore = loadavg()[0];
const rounds = [];
for (let round = 0; round < ROUNDS; round++) {
  const r = [];
  if (STORES.includes('pglite')) r.push(await measure('pglite'));
  if (STORES.includes('postgres') && ADMIN_URL) r.push(await measure('postgres'));
  rounds.push(r);
  if (ROUNDS > 1)
    console.log(
      `round ${round + 1}: ${r.map((m) => `${m.store} ${m.rss.toFixed(0)} MB, ${m.cpu.toFixed(2)} %`).join('; ')}`,
    );
}
if (STORES.includes('postgres') && !ADMIN_URL)
  console.log('PostgreSQL not measured: give --database-url or GOVHOST_TEST_DATABASE_URL');
// Each figure is the median over the rounds, taken figure by figure.
const results = rounds[0].map((first, i) => {
  const all = rounds.map((r) => r[i]);
  const med = (f) => median(all.map(f));
  return {
    store: first.store,
    loadSeconds: med((r) => r.loadSeconds),
    cpu: med((r) => r.cpu),
    rss: med((r) => r.rss),
    mem: Object.fromEntries(
      Object.keys(first.mem)
        .filter((k) => k !== 'argv')
        .map((k) => [k, med((r) => r.mem[k])]),
    ),
  };
});
console.log(
  `idle ${SECONDS} s after load-paper, ${ROUNDS} round(s)${ROUNDS > 1 ? ', medians' : ''}; node flags: ${NODE_FLAGS.join(' ') || 'none'}; load average (1 min): ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`,
);
const row = (label, f) => console.log(`${label.padEnd(34)}${results.map((r) => f(r).padStart(12)).join('')}`);
row('', (r) => r.store);
row('CPU, % of one core', (r) => `${r.cpu.toFixed(2)} %`);
row('RSS, median (MB)', (r) => `${r.rss.toFixed(0)}`);
row(
  'V8 heap used / total (MB)',
  (r) => `${mb(r.mem.heapUsed).toFixed(0)} / ${mb(r.mem.heapTotal).toFixed(0)}`,
);
row('external (MB; PGlite WASM memory)', (r) => `${mb(r.mem.external).toFixed(0)}`);
row('  of which array buffers (MB)', (r) => `${mb(r.mem.arrayBuffers).toFixed(0)}`);
row(
  'rest: RSS - heap - external (MB)',
  (r) => `${(r.rss - mb(r.mem.heapTotal) - mb(r.mem.external)).toFixed(0)}`,
);
row('load-paper took (s)', (r) => `${r.loadSeconds.toFixed(1)}`);
