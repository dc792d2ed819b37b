#!/usr/bin/env node
// Payments created and completed per second through the real API: `node bench/payments.mjs`
// (--help: this).
//
// Starts the sandbox provider as its own process (`govhost payments sandbox`, journal on, as in
// production) and a real `govhost server` told its address, on PGlite in a temp folder and then on
// PostgreSQL (a fresh database on BENCH_DATABASE_URL, or GOVHOST_TEST_DATABASE_URL, dropped at the
// end; skipped, saying so, when neither is set). One department, one service, one test payment key.
// Then BENCH_CONCURRENCY citizens at once each pay one payment after another, the way a citizen's
// browser does, every call a real HTTP request on 127.0.0.1 (keep-alive):
//   create    POST /api/v1/payments with the service's key and an Idempotency-Key
//   continue  POST /pay/{id}/continue on the payment host: the provider call is recorded, made
//             (the sandbox opens the payment) and the payment moves to `started`
//   card      POST the sandbox's card page with 4242 4242 4242 4242 (the provider's own page)
//   back      GET /pay/{id}/back: the platform asks the provider, moves the payment to `submitted`
//             and `success` with its capture posting in the ledger, and issues the return link
//   return    GET /pay/return/{token}: the single-use link, a 303 to the service's return URL
//   get       GET /api/v1/payments/{id} with the key, which must say `success`
// A payment counts as completed when that last answer says `success`. Per round it prints payments
// per second, median and p99 latency of every call, on PostgreSQL the database's transactions per
// payment (pg_stat_database, read 11 s after the round's flow, once the backends have flushed their
// figures; the platform's own jobs add a few) and the CPU its backends used per payment, and as the
// reference in the same run: as many
// plain authenticated GETs (`GET /api/v1/me` with a staff token, same concurrency) as the flow
// sent the platform requests; "vs ref" is the flow's platform requests per second over the
// reference's. At the end the staff API must count every completed payment as `success`.
//
// "other load" is the share of the machine's CPUs that processes outside the benchmark used during
// a round (PostgreSQL's backends serving it are the benchmark's, reported apart): on a shared
// machine, figures taken under high other load compare only within a run.
//
// Environment (all optional): BENCH_PAYMENTS (payments per round, 1000), BENCH_ROUNDS (3),
// BENCH_CONCURRENCY (16), BENCH_WARMUP (payments before the first round, 100), BENCH_MAX_SECONDS
// (a round stops starting payments after this, 120), BENCH_STORES ("pglite,postgres"),
// BENCH_DATABASE_URL (a PostgreSQL server where the user may create databases),
// BENCH_SERVER_NODE_ARGS (space-separated options for the platform's node, e.g. `--cpu-prof
// --cpu-prof-dir=/tmp/prof` to profile it under the load).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runBench } from './bench-main.mjs';
import { cpuEach, cpuSeconds, machineBusySeconds, selfSeconds, tree } from './proc-cpu.mjs';

const num = (name, dflt, min, max) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < min || v > max) {
    console.error(`${name} must be a whole number from ${min} to ${max}`);
    process.exit(2);
  }
  return v;
};
const PAYMENTS = num('BENCH_PAYMENTS', 1000, 1, 100_000);
const ROUNDS = num('BENCH_ROUNDS', 3, 1, 20);
const CONCURRENCY = num('BENCH_CONCURRENCY', 16, 1, 256);
const WARMUP = num('BENCH_WARMUP', 100, 0, 10_000);
const MAX_SECONDS = num('BENCH_MAX_SECONDS', 120, 1, 3600);
const STORES = (process.env.BENCH_STORES ?? 'pglite,postgres').split(',').filter((s) => s !== '');
const PG_URL = process.env.BENCH_DATABASE_URL || process.env.GOVHOST_TEST_DATABASE_URL || '';
const CARD = '4242424242424242';
const CALLS = ['create', 'continue', 'card', 'back', 'return', 'get'];
/** Calls of the flow answered by the platform (the card page is the provider's). */
const PLATFORM_CALLS = CALLS.length - 1;

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'govhost.mjs');
const work = mkdtempSync(join(tmpdir(), 'govhost-bench-payments-'));
const children = [];
const lastWords = [];
// Keep-alive connections, a fresh set for each run of `drive`: a connection left idle between two
// runs (the 11 s wait for PostgreSQL's figures) may be closed by the server as it is reused.
let agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** The environment of a `govhost` child: nothing from this shell's GOVHOST_* or DATABASE_URL. */
function cleanEnv(extra) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('GOVHOST_') && k !== 'DATABASE_URL' && k !== 'NODE_OPTIONS',
    ),
  );
  return { ...env, ...extra };
}

/** Runs `govhost <args>` and waits (at most 180 s: a loaded machine starts slowly) until `find` finds something in its output. */
function launch(args, env, find, what, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, bin, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  // What each child said last, printed when the run fails.
  lastWords.push(() => `govhost ${args.join(' ')}:\n${out.slice(-3000)}\n${err.slice(-2000)}`);
  let seen = false;
  // Until it is ready everything is kept; after that only a tail (the request log is long).
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out = seen ? (out + d).slice(-4000) : out + d;
  });
  child.stderr.setEncoding('utf8').on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const found = new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const v = find(out);
      if (v) {
        seen = true;
        clearInterval(timer);
        clearTimeout(limit);
        resolve(v);
      }
    }, 20);
    const limit = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`no ${what} from govhost ${args.join(' ')} in 180 s:\n${out}\n${err}`));
    }, 180_000);
    child.once('exit', (code) => {
      clearInterval(timer);
      clearTimeout(limit);
      reject(new Error(`govhost ${args.join(' ')} exited with ${code}:\n${err}`));
    });
  });
  return { child, found, out: () => out };
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

/** One HTTP request on 127.0.0.1 (keep-alive, 10 s at most): status, headers, body, milliseconds. */
function call(method, url, { host, headers = {}, body } = {}) {
  const u = new URL(url);
  const payload = body === undefined ? undefined : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(
      {
        agent,
        method,
        host: '127.0.0.1',
        port: u.port,
        path: u.pathname + u.search,
        headers: {
          host: host ?? u.host,
          ...headers,
          ...(payload ? { 'content-length': payload.length } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d) => {
          text += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: text, ms: performance.now() - t0 }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function expect(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: ${r.status} (wanted ${status}) ${r.body.slice(0, 300)}`);
  return r;
}

/** Starts sandbox and platform on one store; returns what the flow needs and a stop function. */
async function startPlatform(store) {
  const dir = mkdtempSync(join(work, `${store}-`));
  let dropDatabase = async () => {};
  let transactions = null;
  let backends = null;
  const extra = {};
  if (store === 'postgres') {
    const name = `govhost_bench_payments_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${name}`);
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    extra.DATABASE_URL = url.toString();
    // PostgreSQL's count of the database's transactions (each statement outside one counts as
    // one): what a payment costs in round trips, read after the backends flushed their figures
    // (at most 10 s after they go idle).
    transactions = async () => {
      await new Promise((r) => setTimeout(r, 11_000));
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      const r = await c.query(
        'select xact_commit + xact_rollback as n from pg_stat_database where datname = $1',
        [name],
      );
      await c.end();
      return Number(r.rows[0].n);
    };
    // The pids of the database's backends now: their CPU is PostgreSQL's share of a payment.
    backends = async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      const r = await c.query('select pid from pg_stat_activity where datname = $1', [name]);
      await c.end();
      return r.rows.map((row) => row.pid);
    };
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  const sandbox = launch(
    ['payments', 'sandbox'],
    cleanEnv({
      GOVHOST_SANDBOX_PORT: '0',
      GOVHOST_SANDBOX_JOURNAL: join(dir, 'sandbox.jsonl'),
    }),
    (out) => /"sandbox":"([^"]+)"/.exec(out)?.[1],
    'sandbox address',
  );
  const sandboxUrl = await sandbox.found;
  const server = launch(
    ['server'],
    cleanEnv({
      ...extra,
      GOVHOST_DATA_DIR: join(dir, 'data'),
      GOVHOST_PORT: '0',
      GOVHOST_ROUTER_PORT: '0',
      GOVHOST_ROUTER_ADMIN_PORT: '0',
      // The default level, as in production: every request is logged.
      GOVHOST_LOG_LEVEL: 'info',
      GOVHOST_PAYMENTS_SANDBOX_URL: sandboxUrl,
    }),
    (out) => {
      const line = out.split('\n').find((l) => l.includes('"GovHost is ready"'));
      const token = /token: (ghk_[\w-]+)/.exec(out)?.[1];
      return line ? { ...JSON.parse(line), token } : null;
    },
    'ready line',
    (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
  );
  const ready = await server.found;
  const { token } = ready;
  if (!token) throw new Error('the platform printed no admin token');
  const api = async (method, path, body, as = token) =>
    call(method, `${ready.url}/api/v1${path}`, {
      headers: {
        authorization: `Bearer ${as}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  expect(
    await api('POST', '/departments', { code: 'BEN', nameEn: 'Bench', nameZh: '測試' }),
    201,
    'department',
  );
  expect(
    await api('POST', '/users', {
      username: 'bench',
      displayName: 'Bench',
      role: 'dept-developer',
      department: 'BEN',
    }),
    201,
    'user',
  );
  const dev = JSON.parse(
    expect(await api('POST', '/tokens', { name: 'bench', user: 'bench', scope: 'write' }), 201, 'token').body,
  ).secret;
  const service = {
    department: 'BEN',
    slug: 'fees',
    nameEn: 'Fees',
    nameZh: '費用',
    origin: 'new',
    channels: ['web'],
    slaTier: 'silver',
  };
  expect(await api('POST', '/services', service, dev), 201, 'service');
  const key = JSON.parse(
    expect(await api('POST', '/services/BEN/fees/payment-keys', { name: 'bench' }, dev), 201, 'key').body,
  ).secret;
  const port = new URL(ready.url).port;
  return {
    url: ready.url,
    payHost: `pay.localhost:${port}`,
    token,
    key,
    api,
    pids: () => [...tree(server.child.pid), sandbox.child.pid],
    transactions,
    backends,
    async stop() {
      await stop(server.child);
      // A platform on PostgreSQL leaves its router serving when it stops (a replica may take
      // over): the bench started it, so the bench ends it.
      try {
        const { pid } = JSON.parse(readFileSync(join(dir, 'data', 'router', 'router.json'), 'utf8'));
        process.kill(pid, 'SIGTERM');
      } catch {
        // No router was started, or it has ended already.
      }
      await stop(sandbox.child);
      await dropDatabase();
    },
  };
}

/** One citizen's payment, from the service's create to its read of `success`: each call's ms. */
async function payOnce(p, n) {
  const ms = {};
  const key = { authorization: `Bearer ${p.key}` };
  const created = expect(
    await call('POST', `${p.url}/api/v1/payments`, {
      headers: { ...key, 'content-type': 'application/json', 'idempotency-key': `bench-${n}` },
      body: JSON.stringify({
        amount: 12_300 + (n % 100),
        reference: `BEN-${n}`,
        description: 'Licence renewal',
        returnUrl: `http://fees.ben.localhost/done?n=${n}`,
      }),
    }),
    201,
    'create',
  );
  ms.create = created.ms;
  const { id } = JSON.parse(created.body);
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const cont = expect(
    await call('POST', `${p.url}/pay/${id}/continue`, { host: p.payHost, headers: form, body: '' }),
    303,
    'continue',
  );
  ms.continue = cont.ms;
  const card = expect(
    await call('POST', cont.headers.location, {
      headers: form,
      body: new URLSearchParams({ action: 'pay', card: CARD }).toString(),
    }),
    303,
    'card',
  );
  ms.card = card.ms;
  const backUrl = new URL(card.headers.location);
  const back = expect(await call('GET', `${p.url}${backUrl.pathname}`, { host: p.payHost }), 303, 'back');
  ms.back = back.ms;
  const ret = expect(
    await call('GET', `${p.url}${back.headers.location}`, { host: p.payHost }),
    303,
    'return',
  );
  ms.return = ret.ms;
  const got = expect(await call('GET', `${p.url}/api/v1/payments/${id}`, { headers: key }), 200, 'get');
  ms.get = got.ms;
  const state = JSON.parse(got.body).state;
  if (state !== 'success') throw new Error(`payment ${id} is ${state} after the citizen paid`);
  return ms;
}

/** Runs `one(i)` for `count` items with CONCURRENCY at once, stopping new ones after MAX_SECONDS. */
async function drive(count, one) {
  let next = 0;
  const deadline = Date.now() + MAX_SECONDS * 1000;
  const results = [];
  const worker = async () => {
    while (next < count && Date.now() < deadline) {
      const i = next++;
      results.push(await one(i));
    }
  };
  agent.destroy();
  agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

/**
 * Measures `fn`: the CPU of the platform's processes and of this script (`cpu`), that of
 * PostgreSQL's backends when the store is PostgreSQL (`pgCpu`: those alive at the end, less what
 * those alive at the start had used before; a backend the pool opened meanwhile counts whole),
 * and the machine's other load, which counts neither.
 */
async function measured(p, fn) {
  const pids = p.pids();
  const pg0 = p.backends ? cpuEach(await p.backends()) : null;
  const ours0 = cpuSeconds(pids) + selfSeconds();
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const results = await fn();
  const wall = (performance.now() - t0) / 1000;
  const ours = cpuSeconds(pids) + selfSeconds() - ours0;
  const busy = machineBusySeconds() - busy0;
  const pgCpu = pg0
    ? [...cpuEach(await p.backends())].reduce((sum, [pid, c]) => sum + c - (pg0.get(pid) ?? 0), 0)
    : Number.NaN;
  const otherLoad = Math.max(0, (busy - ours - (pg0 ? pgCpu : 0)) / (wall * cpus().length));
  return { results, wall, otherLoad, cpu: ours, pgCpu };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** Nearest-rank percentile. */
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

async function benchStore(store) {
  const p = await startPlatform(store);
  const rows = [];
  let serial = 0;
  try {
    log(`${store}: platform ${p.url}, warming up with ${WARMUP} payments`);
    await drive(WARMUP, () => payOnce(p, serial++));
    let completed = WARMUP;
    for (let round = 1; round <= ROUNDS; round++) {
      const x0 = await p.transactions?.();
      const flow = await measured(p, () => drive(PAYMENTS, () => payOnce(p, serial++)));
      const x1 = await p.transactions?.();
      completed += flow.results.length;
      const refCount = flow.results.length * PLATFORM_CALLS;
      const ref = await measured(p, () =>
        drive(refCount, async () => {
          const r = await call('GET', `${p.url}/api/v1/me`, {
            headers: { authorization: `Bearer ${p.token}` },
          });
          return expect(r, 200, 'reference GET').ms;
        }),
      );
      const row = {
        round,
        payments: flow.results.length,
        perSecond: flow.results.length / flow.wall,
        calls: Object.fromEntries(CALLS.map((c) => [c, flow.results.map((r) => r[c])])),
        whole: flow.results.map((r) => CALLS.reduce((s, c) => s + r[c], 0)),
        cpuPerPayment: (flow.cpu / flow.results.length) * 1000,
        refPerSecond: ref.results.length / ref.wall,
        refMs: ref.results,
        otherLoad: Math.max(flow.otherLoad, ref.otherLoad),
        load: loadavg()[0],
      };
      row.vsRef = (row.perSecond * PLATFORM_CALLS) / row.refPerSecond;
      row.pgCpuPerPayment = (flow.pgCpu / flow.results.length) * 1000;
      row.transactions = x0 === undefined ? Number.NaN : (x1 - x0) / flow.results.length;
      rows.push(row);
      log(
        `${store} round ${round}: ${row.perSecond.toFixed(0)} payments/s, whole p99 ${pct(row.whole, 0.99).toFixed(1)} ms, ` +
          `reference ${row.refPerSecond.toFixed(0)} GET/s, vs ref ${row.vsRef.toFixed(2)}, ` +
          `other load ${(row.otherLoad * 100).toFixed(0)}%, load ${row.load.toFixed(1)}`,
      );
    }
    // Every completed payment is `success` in the platform's own count (staff API, both modes).
    const counted = JSON.parse(
      expect(await p.api('GET', '/services/BEN/fees/payments?state=success&limit=1'), 200, 'count').body,
    ).total;
    if (counted !== completed)
      throw new Error(`${completed} payments completed, the platform counts ${counted}`);
  } finally {
    await p.stop();
  }
  return rows;
}

function printStore(store, rows) {
  const med = (f) => median(rows.map(f));
  console.log(
    `\n### ${store}: ${rows.length} rounds × ${PAYMENTS} payments, ${CONCURRENCY} at once (medians of the rounds)\n`,
  );
  console.log('| figure | median of rounds | each round |');
  console.log('|---|---:|---|');
  const each = (f, d = 0) => rows.map((r) => f(r).toFixed(d)).join(' / ');
  console.log(
    `| payments completed / s | ${med((r) => r.perSecond).toFixed(0)} | ${each((r) => r.perSecond)} |`,
  );
  console.log(
    `| reference: authenticated GET /s | ${med((r) => r.refPerSecond).toFixed(0)} | ${each((r) => r.refPerSecond)} |`,
  );
  console.log(
    `| flow's platform requests / s vs reference | ${med((r) => r.vsRef).toFixed(2)} | ${each((r) => r.vsRef, 2)} |`,
  );
  console.log(
    `| CPU-ms per payment (platform, sandbox, this script) | ${med((r) => r.cpuPerPayment).toFixed(1)} | ${each((r) => r.cpuPerPayment, 1)} |`,
  );
  if (rows.some((r) => !Number.isNaN(r.pgCpuPerPayment)))
    console.log(
      `| PostgreSQL backends' CPU-ms per payment | ${med((r) => r.pgCpuPerPayment).toFixed(1)} | ${each((r) => r.pgCpuPerPayment, 1)} |`,
    );
  if (rows.some((r) => !Number.isNaN(r.transactions)))
    console.log(
      `| PostgreSQL transactions per payment | ${med((r) => r.transactions).toFixed(1)} | ${each((r) => r.transactions, 1)} |`,
    );
  console.log(
    `| other load | ${(med((r) => r.otherLoad) * 100).toFixed(0)}% | ${each((r) => r.otherLoad * 100)} % |`,
  );
  console.log(`| load average (1 min) | ${med((r) => r.load).toFixed(1)} | ${each((r) => r.load, 1)} |`);
  console.log('\n| call | p50 ms | p99 ms |');
  console.log('|---|---:|---:|');
  for (const c of CALLS)
    console.log(
      `| ${c} | ${med((r) => median(r.calls[c])).toFixed(1)} | ${med((r) => pct(r.calls[c], 0.99)).toFixed(1)} |`,
    );
  console.log(
    `| whole payment (sum of the six) | ${med((r) => median(r.whole)).toFixed(1)} | ${med((r) => pct(r.whole, 0.99)).toFixed(1)} |`,
  );
  console.log(
    `| reference GET | ${med((r) => median(r.refMs)).toFixed(1)} | ${med((r) => pct(r.refMs, 0.99)).toFixed(1)} |`,
  );
}

async function main() {
  const results = [];
  for (const store of STORES) {
    if (store === 'postgres' && !PG_URL) {
      log('SKIPPED PostgreSQL: set BENCH_DATABASE_URL (or GOVHOST_TEST_DATABASE_URL)');
      continue;
    }
    if (store !== 'pglite' && store !== 'postgres') throw new Error(`BENCH_STORES: unknown store ${store}`);
    results.push([store, await benchStore(store)]);
  }
  console.log(
    `\nPayments benchmark: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
  );
  for (const [store, rows] of results) printStore(store, rows);
}

async function cleanup() {
  await Promise.all(children.map(stop));
  agent.destroy();
  rmSync(work, { recursive: true, force: true });
}

await runBench({
  manual: import.meta.url,
  main,
  cleanup,
  lastWords: () => {
    for (const words of lastWords) console.error(words());
  },
});
