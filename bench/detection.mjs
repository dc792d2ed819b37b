#!/usr/bin/env node
// Detection delay of monitoring, end to end: from a service starting to fail to the service-down
// alert firing, its incident opening and its webhook reaching a receiver; and from the service
// recovering to the incident resolving. Compared with the lower bound of the design.
//
// Usage: node bench/detection.mjs [--interval-ms 10000[,2000,...]] [--rounds N]
//   Defaults: the platform's default probe interval (10 s), 10 rounds. A round lasts about two
//   intervals (waiting for the chosen failure phase, detection, recovery until the next probe),
//   so the default run takes about 4 minutes (250 s measured, start-up included); each extra
//   interval I adds about rounds x 2 I.
//
// Method: for each interval, starts a whole platform (`govhost server`, PGlite, router) on
// loopback in a temp folder with GOVHOST_PROBE_INTERVAL_MS, a webhook receiver on 127.0.0.1 and a
// webhook channel to it, and deploys a gold-tier Node service (health-check-type process, so it
// stays routed while it answers 500) that answers 500 while a flag file exists. Each round:
//   - picks a failure phase within the probe interval (stratified: round k of n gets a uniform
//     draw from [k/n, (k+1)/n) of the interval, in shuffled order), and waits for that moment of
//     the service's probe schedule (the engine's own phase: FNV hash of the service id);
//   - creates the flag file and notes the time; polls GET /alerts?state=firing&service=... and
//     GET /incidents?state=open&service=... every 20 ms (bounded) until each shows service-down,
//     and notes when the signed `incident.opened` webhook of that incident arrives;
//   - removes the flag and polls the incident every 20 ms until it is resolved (and its webhook).
// The design's lower bound for a failure at a uniformly random phase: the next probe comes
// U(0, interval) later (median interval/2, worst one interval), then the confirming probe
// min(interval/5, 1 s) later. Each round's own bound (its actual phase) is printed too, and the
// measured delay minus it is what the platform adds (probe round trip, evaluation, the write,
// polling). Everything started is stopped and the temp folder removed at the end.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

await import('../bin/ts-loader.mjs');
const { hash32, nextAtPhase } = await import('../src/monitoring/scheduler.ts');
const { verifyWebhook } = await import('../src/monitoring/notification.senders.ts');

const argOf = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const INTERVALS = (argOf('--interval-ms') ?? '10000').split(',').map(Number);
const ROUNDS = Number(argOf('--rounds') ?? 10);
const POLL_MS = 20;
// As the engine: a first failure is confirmed a fifth of the interval later, at most 1 s.
const confirmDelay = (interval) => Math.min(Math.round(interval / 5), 1000);
if (INTERVALS.some((i) => !(i >= 200)) || !(ROUNDS >= 1)) {
  console.error('usage: node bench/detection.mjs [--interval-ms 10000[,2000]] [--rounds N]');
  process.exit(2);
}

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'govhost.mjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Polls `check` every POLL_MS until it gives a value; the deadline names what was awaited. */
async function until(what, check, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** One platform at one probe interval, with its receiver and service; `stop()` ends it all. */
async function startPlatform(interval) {
  const work = mkdtempSync(join(tmpdir(), 'govhost-detect-'));
  // The service runs as its own OS user when we are root: it must be able to see the flag.
  chmodSync(work, 0o755);
  const flag = join(work, 'fail-now');
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
    GOVHOST_PROBE_INTERVAL_MS: String(interval),
    // The default timeout (5 s) only while it fits well inside the interval.
    GOVHOST_PROBE_TIMEOUT_MS: String(Math.min(5000, Math.max(100, Math.floor(interval / 2)))),
    // The receiver is on loopback, which webhooks may only reach when the operator allows it.
    GOVHOST_WEBHOOK_ALLOW: '127.0.0.1',
  });

  const hooks = [];
  let secret = '';
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c) => (body += c));
    req.on('end', () => {
      const at = Date.now();
      const verified = verifyWebhook(
        secret,
        { timestamp: req.headers['x-govhost-timestamp'], signature: req.headers['x-govhost-signature'] },
        body,
      );
      hooks.push({ at, verified, payload: JSON.parse(body) });
      res.writeHead(verified ? 200 : 401).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));

  const server = spawn(process.execPath, [bin, 'server'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  server.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  server.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  const closed = new Promise((r) => server.on('close', r));
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await closed;
    await new Promise((r) => receiver.close(() => r()));
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const ready = await until(
      'the platform to be ready',
      async () => {
        if (server.exitCode !== null) throw new Error(`govhost server exited:\n${out}`);
        const line = out.split('\n').find((l) => l.includes('"GovHost is ready"'));
        return line ? JSON.parse(line) : null;
      },
      60_000,
    );
    const token = /token: (ghk_[\w-]+)/.exec(out)[1];
    const router = new URL(ready.routerUrl);
    const api = async (method, path, body) => {
      const res = await fetch(`${ready.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = await res.json();
      if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const viaRouter = (host) =>
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

    await api('POST', '/departments', { code: 'DET', nameEn: 'Detection', nameZh: '偵測' });
    await api('POST', '/services', {
      department: 'DET',
      slug: 'flaky',
      nameEn: 'Flaky',
      nameZh: '不穩',
      origin: 'new',
      channels: ['web'],
      slaTier: 'gold',
    });
    const hook = await api('POST', '/notification-channels', {
      kind: 'webhook',
      url: `http://127.0.0.1:${receiver.address().port}/govhost`,
      department: 'DET',
    });
    secret = hook.secret;
    // Measure the detection pipeline itself: without the service-down clear duration (30 s by
    // default, decision 011) the incident resolves on the first good probe, as it did before.
    await api('PUT', '/services/DET/flaky/alert-rules/service-down', { clearSeconds: 0 });

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'server.js'),
      [
        "const http = require('node:http');",
        "const fs = require('node:fs');",
        'http.createServer((req, res) => {',
        '  const failing = fs.existsSync(process.env.FAIL_FLAG);',
        "  res.writeHead(failing ? 500 : 200, { 'content-type': 'text/plain' });",
        "  res.end(failing ? 'broken\\n' : 'ok\\n');",
        "}).listen(Number(process.env.PORT), '127.0.0.1');",
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'manifest.yml'),
      [
        'applications:',
        '  - name: flaky',
        '    memory: 64M',
        '    health-check-type: process',
        '    command: node server.js',
        '    env:',
        `      FAIL_FLAG: ${flag}`,
      ].join('\n'),
    );
    await new Promise((resolve, reject) => {
      const c = spawn(
        process.execPath,
        [bin, '--url', ready.url, '--token', token, 'deploy', app, '--service', 'DET/flaky', '--no-follow'],
        { env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`deploy failed: ${err}`))));
    });
    await until(
      'the service to be served',
      async () => (await viaRouter('flaky.det.localhost')) === 200,
      60_000,
    );
    return { api, hooks, flag, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function runInterval(interval) {
  const confirm = confirmDelay(interval);
  const p = await startPlatform(interval);
  const rounds = [];
  try {
    const SERVICE = 'DET/flaky';
    const current = async () => (await p.api('GET', `/services/${SERVICE}/metrics`)).current;
    const up = await until(
      'the engine to see the service up',
      async () => {
        const c = await current();
        return c?.state === 'up' && c.consecutiveFailures === 0 ? c : null;
      },
      4 * interval + 30_000,
    );
    const phase = hash32(up.serviceId) % interval;
    // Stratified failure phases, in shuffled order.
    const phases = Array.from({ length: ROUNDS }, (_, k) => ((k + Math.random()) / ROUNDS) * interval);
    for (let i = phases.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [phases[i], phases[j]] = [phases[j], phases[i]];
    }
    const bound = 2 * interval + confirm + 15_000;

    for (const [k, want] of phases.entries()) {
      // The first moment `want` ms after a scheduled probe, at least 50 ms from now.
      const failAt = nextAtPhase(Date.now() + 50, (phase + want) % interval, interval);
      await sleep(failAt - Date.now());
      writeFileSync(p.flag, 'x');
      const failedAt = Date.now();
      const nextProbe = nextAtPhase(failedAt, phase, interval);
      const ownBound = nextProbe - failedAt + confirm;

      let alert = null;
      let incident = null;
      let alertMs = 0;
      let incidentMs = 0;
      await until(
        'the service-down alert and its incident',
        async () => {
          const [a, i] = await Promise.all([
            alert ? null : p.api('GET', `/alerts?state=firing&service=${SERVICE}`),
            incident ? null : p.api('GET', `/incidents?state=open&service=${SERVICE}`),
          ]);
          const now = Date.now();
          if (a) {
            alert = a.items.find((x) => x.rule === 'service-down') ?? null;
            if (alert) alertMs = now - failedAt;
          }
          if (i) {
            incident = i.items.find((x) => x.rule === 'service-down') ?? null;
            if (incident) incidentMs = now - failedAt;
          }
          return alert && incident;
        },
        bound,
      );
      const opened = await until(
        'the incident.opened webhook',
        async () =>
          p.hooks.find((h) => h.payload.event === 'incident.opened' && h.payload.incidentId === incident.id),
        bound,
      );
      if (!opened.verified) throw new Error('the webhook signature did not verify');

      rmSync(p.flag);
      const recoveredAt = Date.now();
      const resolveBound = nextAtPhase(recoveredAt, phase, interval) - recoveredAt;
      await until(
        'the incident to resolve',
        async () => (await p.api('GET', `/incidents/${incident.id}`)).state === 'resolved',
        bound,
      );
      const resolveMs = Date.now() - recoveredAt;
      const resolvedHook = await until(
        'the incident.resolved webhook',
        async () =>
          p.hooks.find(
            (h) => h.payload.event === 'incident.resolved' && h.payload.incidentId === incident.id,
          ),
        bound,
      );
      const r = {
        phase: (failedAt - (nextProbe - interval)) % interval,
        ownBound,
        alertMs,
        incidentMs,
        webhookMs: opened.at - failedAt,
        serverMs: Date.parse(alert.startedAt) - failedAt,
        resolveBound,
        resolveMs,
        resolvedHookMs: resolvedHook.at - recoveredAt,
      };
      rounds.push(r);
      console.error(
        `  [${interval} ms] round ${k + 1}/${ROUNDS}: phase ${r.phase.toFixed(0)} ms, alert ${alertMs} ms ` +
          `(own bound ${ownBound} ms), incident ${incidentMs} ms, webhook ${r.webhookMs} ms, resolve ${resolveMs} ms`,
      );
    }
  } finally {
    await p.stop();
  }
  return { interval, confirm, rounds };
}

const load0 = loadavg();
const t0 = Date.now();
const results = [];
for (const interval of INTERVALS) results.push(await runInterval(interval));
const load1 = loadavg();

console.log(
  `detection bench: ${ROUNDS} rounds per interval, polling every ${POLL_MS} ms; node ${process.version}, ` +
    `${cpus().length} CPUs; load (1/5/15 min) ${load0.map((x) => x.toFixed(2)).join(' ')} before, ` +
    `${load1.map((x) => x.toFixed(2)).join(' ')} after; ${((Date.now() - t0) / 1000).toFixed(0)} s`,
);
const header = ['interval', 'figure', 'median ms', 'p90 ms', 'max ms', 'lower bound median / p90 / max ms'];
const lines = [];
const f = (x) => String(Math.round(x));
for (const { interval, confirm, rounds } of results) {
  const col = (key) => rounds.map((r) => r[key]);
  const theory = `${f(interval / 2 + confirm)} / ${f(0.9 * interval + confirm)} / ${f(interval + confirm)}`;
  const row = (name, xs, ref) => [
    `${interval / 1000} s`,
    name,
    f(median(xs)),
    f(pct(xs, 0.9)),
    f(Math.max(...xs)),
    ref,
  ];
  lines.push(row('failure -> alert firing (API)', col('alertMs'), theory));
  lines.push(row('failure -> incident open (API)', col('incidentMs'), theory));
  lines.push(row('failure -> webhook received', col('webhookMs'), theory));
  lines.push(row("failure -> alert's startedAt (server)", col('serverMs'), theory));
  lines.push(row("bound at these rounds' phases", col('ownBound'), '(next probe + confirm)'));
  lines.push(
    row(
      'alert minus own bound',
      rounds.map((r) => r.alertMs - r.ownBound),
      '0 (what the platform and polling add)',
    ),
  );
  lines.push(
    row(
      'recovery -> incident resolved (API)',
      col('resolveMs'),
      `own bound: ${f(median(col('resolveBound')))} median`,
    ),
  );
  lines.push(row('recovery -> resolved webhook', col('resolvedHookMs'), ''));
}
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const fmt = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(fmt(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const l of lines) console.log(fmt(l));
for (const { interval, rounds } of results) {
  const worst = Math.max(...rounds.map((r) => r.alertMs));
  console.log(
    `${interval / 1000} s: alert median ${f(median(rounds.map((r) => r.alertMs)))} ms = ` +
      `${(median(rounds.map((r) => r.alertMs)) / interval).toFixed(2)} x interval; worst ${f(worst)} ms = ` +
      `${(worst / interval).toFixed(2)} x interval (goal: within 2 x)`,
  );
}
