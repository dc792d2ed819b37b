#!/usr/bin/env node
// How many services one platform process can probe at the default 10 s interval while the probe
// schedule keeps within 10 % of its interval. Usage: node --import ./bin/ts-loader.mjs bench/probes.mjs
//
// Drives the engine's real probing path in this process: its Prober (node:http keep-alive agent),
// its TimerWheel and the same phase spreading (FNV hash of the service id) and rescheduling the
// engine uses. The target is a tiny keep-alive node:http server in a child process on 127.0.0.1
// that answers 200 to any Host (so the figures are the prober's cost, not a hosted app's or the
// router's). For each N, a fresh set of N services is probed for BENCH_INTERVALS intervals after
// one interval of warm-up (the first probes open the connections).
//
// Prints per N: probes/s achieved (target N / interval), schedule lag (time a probe was sent after
// it was due) p50/p99/max in % of the interval, probe round-trip p50/p99, CPU of this process in %
// of one core, and whether the schedule kept within 10 %.
//
// Environment (optional): BENCH_NS ("1000,2000,5000,10000"), BENCH_INTERVAL_MS (10000),
// BENCH_INTERVALS (2). The default run takes about 2 minutes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { Prober } from '../src/monitoring/prober.ts';
import { hash32, nextAtPhase, TimerWheel } from '../src/monitoring/scheduler.ts';

const NS = (process.env.BENCH_NS ?? '1000,2000,5000,10000').split(',').map(Number);
const INTERVAL = Number(process.env.BENCH_INTERVAL_MS ?? 10_000);
const INTERVALS = Number(process.env.BENCH_INTERVALS ?? 2);

const TARGET = `
const http = require('node:http');
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); });
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

const pct = (xs, q) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function startTarget() {
  const child = spawn(process.execPath, ['-e', TARGET], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout.setEncoding('utf8'), 'data');
  return { child, port: Number(String(line).trim()) };
}

async function run(n, port) {
  const prober = new Prober(() => `http://127.0.0.1:${port}`, 5000);
  const services = Array.from({ length: n }, (_, i) => {
    const id = `bench-${n}-${i}`;
    return { id, hostname: `s${i}.bench.localhost`, phase: hash32(id) % INTERVAL, probing: false };
  });
  const byId = new Map(services.map((s) => [s.id, s]));
  let measuring = false;
  const lags = [];
  const rtts = [];
  let probes = 0;
  let failed = 0;
  let skipped = 0;
  const wheel = new TimerWheel(10, INTERVAL + 1000, (id, at) => {
    const s = byId.get(id);
    // As the engine does: a probe still in flight skips its turn.
    if (s.probing) {
      skipped++;
      wheel.schedule(id, nextAtPhase(Date.now(), s.phase, INTERVAL));
      return;
    }
    if (measuring) lags.push(Date.now() - at);
    s.probing = true;
    prober.probe({ hostname: s.hostname, path: '/healthz' }).then((r) => {
      s.probing = false;
      if (measuring) {
        probes++;
        rtts.push(r.ms);
        if (!r.ok) failed++;
      }
      wheel.schedule(id, nextAtPhase(Date.now(), s.phase, INTERVAL));
    });
  });
  const t0 = Date.now();
  for (const s of services) wheel.schedule(s.id, nextAtPhase(t0, s.phase, INTERVAL));
  wheel.start();
  await new Promise((r) => setTimeout(r, INTERVAL)); // warm-up: every service probed once
  measuring = true;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, INTERVAL * INTERVALS));
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - w0) / 1000;
  measuring = false;
  wheel.stop();
  // Let the last probes finish before the next N starts.
  while (services.some((s) => s.probing)) await new Promise((r) => setTimeout(r, 10));
  prober.close();
  const lagPct = lags.map((l) => (100 * l) / INTERVAL);
  return {
    n,
    target: n / (INTERVAL / 1000),
    rate: probes / wall,
    lagP50: pct(lagPct, 0.5),
    lagP99: pct(lagPct, 0.99),
    lagMax: Math.max(...lagPct),
    rttP50: pct(rtts, 0.5),
    rttP99: pct(rtts, 0.99),
    cpu: (100 * (cpu.user + cpu.system)) / 1e6 / wall,
    failed,
    skipped,
  };
}

const target = await startTarget();
console.log(
  `probe bench: interval ${INTERVAL} ms, ${INTERVALS} measured interval(s) per N after 1 of warm-up; ` +
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0].toFixed(2)}`,
);
const rows = [];
try {
  for (const n of NS) {
    const r = await run(n, target.port);
    rows.push(r);
    console.error(`  N=${n} done`);
  }
} finally {
  target.child.kill();
}
const header = [
  'services',
  'probes/s (target)',
  'lag p50 %',
  'lag p99 %',
  'lag max %',
  'rtt p50 ms',
  'rtt p99 ms',
  'cpu % core',
  'failed',
  'skipped',
  'within 10 %',
];
const lines = rows.map((r) => [
  String(r.n),
  `${f(r.rate, 0)} (${f(r.target, 0)})`,
  f(r.lagP50, 3),
  f(r.lagP99, 3),
  f(r.lagMax, 3),
  f(r.rttP50),
  f(r.rttP99),
  f(r.cpu, 1),
  String(r.failed),
  String(r.skipped),
  r.lagMax <= 10 && r.rate >= 0.95 * r.target ? 'yes' : 'NO',
]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const fmt = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(fmt(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const l of lines) console.log(fmt(l));
