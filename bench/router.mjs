#!/usr/bin/env node
// Router vs nginx and HAProxy on this machine, in one run: `node bench/router.mjs` (--help: this).
//
// Starts a keep-alive hello-world backend, the GovHost router (a real process through bin/ts-loader.mjs),
// nginx (2 workers, upstream keepalive) and HAProxy (2 threads, connection reuse; skipped, saying
// so, when Debian's `haproxy` is not installed) in front of it, each over plain HTTP and over
// HTTPS (TLS terminated by the proxy with one throwaway certificate made with openssl, the same
// for all three; the router with its own TLS 1.2/1.3 cipher list, nginx and HAProxy with the same
// list and order, chosen by the server: all three encrypt with AES-128-GCM under wrk).
// Then drives each with wrk at 64 and 256 connections, several rounds interleaved so drift hits
// every target alike. Prints medians of req/s and latency, CPU-seconds of the proxy processes per
// 10k requests, and each target against nginx over the same scheme. wrk keeps its connections, so
// the HTTPS figures measure record encryption, not handshakes. Everything listens on 127.0.0.1
// and is stopped at the end.
//
// "other load" is the share of the machine's CPUs that processes outside the benchmark used during
// a run: on a shared machine, figures taken under high other load are not comparable.
//
// Environment (all optional): BENCH_SECONDS (8), BENCH_WARMUP (2), BENCH_ROUNDS (5),
// BENCH_CONNECTIONS ("64,256"), BENCH_ROUTER_WORKERS (comma list of router variants to run,
// each a GOVHOST_ROUTER_WORKERS value; default: the router's own default), BENCH_ROUTER_ENV
// (";"-separated router variants, each space-separated NAME=value pairs set in that router's
// environment, e.g. "NODE_OPTIONS=--max-semi-space-size=32;NODE_CLUSTER_SCHED_POLICY=none"; an
// empty item is the router as it is; the workers inherit the environment; NODE=path runs that
// variant on another Node.js binary), BENCH_SCHEMES
// ("http,https": which of the two to run).
//
// Besides the table, each run's log line gives "rest" (CPU-seconds per 10k requests of wrk and the
// backend, which share the CPUs with the proxy) and "workers" (each proxy child's share of the
// proxy's CPU, to see whether the load is balanced).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from './bench-main.mjs';
import { childrenSeconds, cpuEach, cpuSeconds, machineBusySeconds, selfSeconds, tree } from './proc-cpu.mjs';

const root = new URL('..', import.meta.url).pathname;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '64,256').split(',').map(Number);
const ROUTER_VARIANTS = (process.env.BENCH_ROUTER_WORKERS ?? '').split(',').filter((s) => s !== '');
const SCHEMES = (process.env.BENCH_SCHEMES ?? 'http,https').split(',').filter((s) => s !== '');
const ROUTER_ENVS =
  process.env.BENCH_ROUTER_ENV === undefined ? [''] : process.env.BENCH_ROUTER_ENV.split(';');
const NGINX = 'nginx (2 workers)';
// wrk sends the URL's host as SNI even for an address, so the certificate names 127.0.0.1 too:
// the router, which picks certificates by SNI, then finds it as a citizen's browser would.
const TLS_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
// TLS 1.3 suites in the router's order (src/router/tls-sni.ts), chosen by the server as the
// router's Node/OpenSSL does: wrk (OpenSSL's client defaults) lists AES-256-GCM first, so without
// this nginx and HAProxy would encrypt with AES-256 while the router uses AES-128.
const TLS13_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
const HOST = 'bench.localhost';
const TOKEN = 'bench-admin-token-0123456789';
const work = mkdtempSync(join(tmpdir(), 'govhost-bench-'));
const children = [];

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One throwaway EC P-256 certificate for the TLS targets (PEM chain and key, and their files). */
function makeCertificate() {
  const dir = join(work, 'tls');
  execFileSync('mkdir', ['-p', dir]);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2']
      .concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', `/CN=${HOST}`])
      // A server's certificate, not a CA's (req -x509 makes a CA by default; the router refuses one).
      .concat([
        '-addext',
        `subjectAltName=DNS:${HOST},DNS:127.0.0.1`,
        '-addext',
        'basicConstraints=critical,CA:FALSE',
      ]),
    { stdio: 'ignore' },
  );
  const chain = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  // HAProxy wants the certificate and its key in one file.
  writeFileSync(join(dir, 'both.pem'), chain + key);
  return {
    chain,
    key,
    certFile: join(dir, 'cert.pem'),
    keyFile: join(dir, 'key.pem'),
    bothFile: join(dir, 'both.pem'),
  };
}

/** Polls until `url` answers 2xx (bounded at 10 s); HTTPS with the throwaway certificate. */
async function waitAnswers(name, port, scheme) {
  const get = scheme === 'https' ? httpsGet : httpGet;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await new Promise((resolve) => {
      const req = get(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          headers: { host: HOST },
          rejectUnauthorized: false,
          servername: HOST,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        },
      );
      req.on('error', () => resolve(0));
    });
    if (status >= 200 && status < 300) return;
    if (Date.now() > deadline) throw new Error(`${name} did not answer over ${scheme} in 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function ensureTools() {
  if (have('nginx') && have('wrk')) return;
  log('installing nginx and wrk from Debian packages');
  execFileSync('apt-get', ['install', '-y', 'nginx', 'wrk'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Spawns a child we will stop at the end; `ready` resolves with the first stdout line. */
function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.push(child);
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready in 20 s: ${err}`)), 20_000);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}: ${err}`));
    });
  });
  return { child, ready };
}

const BACKEND = `
import { createServer } from 'node:http';
const body = Buffer.from('Hello, world!\\n');
const s = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
});
s.keepAliveTimeout = 120000;
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })));
`;

async function startBackend() {
  const { child, ready } = start(process.execPath, ['--input-type=module', '-e', BACKEND]);
  return { pid: child.pid, port: JSON.parse(await ready).port };
}

/** `NAME=value NAME2=value2` as an object (values without spaces). */
function parseEnv(text) {
  const out = {};
  for (const pair of text.split(' ').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`BENCH_ROUTER_ENV: "${pair}" is not NAME=value`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

async function startRouter(backendPort, workers, tls, extraEnv) {
  const env = {
    ...process.env,
    ...parseEnv(extraEnv),
    GOVHOST_ROUTER_PORT: '0',
    ...(tls ? { GOVHOST_ROUTER_HTTPS_PORT: '0' } : {}),
    GOVHOST_ROUTER_ADMIN_PORT: '0',
    GOVHOST_ROUTER_ADMIN_TOKEN: TOKEN,
    GOVHOST_ROUTER_STATE: join(work, `routes-${workers ?? 'default'}-${children.length}.json`),
  };
  if (workers !== undefined) env.GOVHOST_ROUTER_WORKERS = workers;
  // NODE=path in a variant runs that router on another Node.js binary (to weigh a Node upgrade).
  const node = env.NODE ?? process.execPath;
  delete env.NODE;
  const { child, ready } = start(node, ['--import', './bin/ts-loader.mjs', 'src/router/main.ts'], {
    cwd: root,
    env,
  });
  const { port, httpsPort, adminPort } = JSON.parse(await ready);
  const table = {
    version: 1,
    routes: [
      {
        hostname: HOST,
        service: 'BENCH/hello',
        kind: 'proxy',
        backends: [{ id: 'hello-1', url: `http://127.0.0.1:${backendPort}` }],
        // Both schemes are measured: plain HTTP must not be redirected.
        httpsRedirect: false,
      },
    ],
    ...(tls ? { certificates: [{ id: 'bench', chain: tls.chain, key: tls.key }] } : {}),
  };
  const res = await fetch(`http://127.0.0.1:${adminPort}/routes`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(table),
  });
  if (res.status !== 200) throw new Error(`PUT /routes: ${res.status} ${await res.text()}`);
  return { pid: child.pid, port, httpsPort };
}

async function startNginx(backendPort, tls) {
  const port = await freePort();
  const httpsPort = tls ? await freePort() : null;
  const dir = join(work, 'nginx');
  execFileSync('mkdir', ['-p', join(dir, 'tmp')]);
  const conf = `
worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 512;
  }
  server {
    listen 127.0.0.1:${port};
    ${
      tls
        ? `listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${tls.certFile};
    ssl_certificate_key ${tls.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    ssl_conf_command Ciphersuites ${TLS13_SUITES};
    ssl_ciphers ${TLS_CIPHERS};`
        : ''
    }
    keepalive_requests 1000000;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Port $server_port;
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  await waitAnswers('nginx', port, 'http');
  if (tls) await waitAnswers('nginx', httpsPort, 'https');
  return { pid: child.pid, port, httpsPort };
}

/** HAProxy 2 threads (as nginx has 2 workers), keep-alive both sides, server connections reused. */
async function startHaproxy(backendPort, tls) {
  const port = await freePort();
  const httpsPort = tls ? await freePort() : null;
  const dir = join(work, 'haproxy');
  execFileSync('mkdir', ['-p', dir]);
  const conf = `
global
  nbthread 2
  maxconn 4096
  pidfile ${dir}/haproxy.pid
  ${tls ? `ssl-default-bind-ciphers ${TLS_CIPHERS}\n  ssl-default-bind-ciphersuites ${TLS13_SUITES}\n  ssl-default-bind-options ssl-min-ver TLSv1.2` : ''}
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend plain
  bind 127.0.0.1:${port}
  default_backend hello
${tls ? `frontend secure\n  bind 127.0.0.1:${httpsPort} ssl crt ${tls.bothFile}\n  default_backend hello\n` : ''}backend hello
  option forwardfor
  http-request set-header X-Forwarded-Proto https if { ssl_fc }
  http-request set-header X-Forwarded-Proto http if !{ ssl_fc }
  server hello1 127.0.0.1:${backendPort} maxconn 1000
`;
  writeFileSync(join(dir, 'haproxy.cfg'), conf);
  // -db: foreground, no daemon; it is stopped with the other children.
  const child = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-2000);
  });
  try {
    await waitAnswers('haproxy', port, 'http');
    if (tls) await waitAnswers('haproxy', httpsPort, 'https');
  } catch (e) {
    throw new Error(`${e.message}: ${err}`);
  }
  return { pid: child.pid, port, httpsPort };
}

function toMs(v) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60000;
}

function wrk(url, conns, seconds) {
  const out = execFileSync(
    'wrk',
    ['-t2', `-c${conns}`, `-d${seconds}s`, '--timeout', '5s', '--latency', '-H', `Host: ${HOST}`, url],
    { encoding: 'utf8', timeout: (seconds + 30) * 1000 },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out)?.[0] ?? '';
  return { rps, p50, p99, requests, errors };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  ensureTools();
  let tls = null;
  if (SCHEMES.includes('https')) {
    if (have('openssl')) tls = makeCertificate();
    else log('SKIPPED the HTTPS targets: openssl is not installed (apt-get install openssl)');
  }
  const withHttp = SCHEMES.includes('http');
  const backend = await startBackend();
  const targets = [];
  // Each proxy gives one target per scheme run; `vs` compares it with nginx over the same scheme.
  const add = (name, p, pids) => {
    if (withHttp) targets.push({ name, scheme: 'http', url: `http://127.0.0.1:${p.port}/`, pids });
    if (tls) targets.push({ name, scheme: 'https', url: `https://127.0.0.1:${p.httpsPort}/`, pids });
  };
  if (withHttp)
    targets.push({
      name: 'direct (backend)',
      scheme: 'http',
      url: `http://127.0.0.1:${backend.port}/`,
      pids: null,
    });
  const nginx = await startNginx(backend.port, tls);
  add(NGINX, nginx, () => tree(nginx.pid));
  if (have('haproxy')) {
    const haproxy = await startHaproxy(backend.port, tls);
    add('haproxy (2 threads)', haproxy, () => tree(haproxy.pid));
  } else log('SKIPPED HAProxy: it is not installed (apt-get install haproxy)');
  for (const w of ROUTER_VARIANTS.length > 0 ? ROUTER_VARIANTS : [undefined]) {
    for (const e of ROUTER_ENVS) {
      const r = await startRouter(backend.port, w, tls, e);
      const what = [w === undefined ? '' : `workers=${w}`, e.trim()].filter((x) => x !== '').join(', ');
      add(what === '' ? 'router' : `router (${what})`, r, () => tree(r.pid));
    }
  }
  log(`backend :${backend.port}, ${targets.map((t) => `${t.name} ${t.url}`).join(', ')}`);
  const results = new Map();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const conns of CONNECTIONS) {
      for (const t of targets) {
        wrk(t.url, conns, WARMUP);
        const pids = t.pids?.() ?? [];
        // Everything this benchmark runs, to tell its CPU use apart from other load on the machine.
        const ours = [...pids, backend.pid];
        const cpu0 = cpuSeconds(pids);
        const each0 = cpuEach(pids);
        const rest0 = cpuSeconds([backend.pid]) + childrenSeconds();
        const ours0 = cpuSeconds(ours) + childrenSeconds() + selfSeconds();
        const busy0 = machineBusySeconds();
        const t0 = Date.now();
        const r = wrk(t.url, conns, SECONDS);
        const wall = (Date.now() - t0) / 1000;
        const cpu = cpuSeconds(pids) - cpu0;
        // wrk and the backend: what the rest of a request costs on the same two CPUs.
        r.restPer10k = ((cpuSeconds([backend.pid]) + childrenSeconds() - rest0) / r.requests) * 10_000;
        // Each child's share of the proxy's CPU (the root, a master or cluster primary, left out).
        const each = [...cpuEach(pids)]
          .filter(([pid]) => pid !== pids[0])
          .map(([pid, c]) => c - each0.get(pid));
        const sum = each.reduce((a, b) => a + b, 0);
        r.balance =
          sum > 0 && each.length > 1 ? each.map((c) => `${Math.round((c / sum) * 100)}`).join('/') : '';
        const oursUsed = cpuSeconds(ours) + childrenSeconds() + selfSeconds() - ours0;
        // Share of the machine's CPUs used by processes outside this benchmark during the run.
        r.otherLoad = Math.max(0, (machineBusySeconds() - busy0 - oursUsed) / (wall * cpus().length));
        r.cpuPer10k = t.pids ? (cpu / r.requests) * 10_000 : Number.NaN;
        const key = `${t.name}|${t.scheme}|${conns}`;
        if (!results.has(key)) results.set(key, []);
        results.get(key).push(r);
        log(
          `round ${round} ${t.name} ${t.scheme} c=${conns}: ${r.rps.toFixed(0)} req/s p50 ${r.p50} ms p99 ${r.p99} ms` +
            (t.pids ? ` cpu ${r.cpuPer10k.toFixed(3)} s/10k` : '') +
            ` rest ${r.restPer10k.toFixed(3)} s/10k` +
            (r.balance ? ` workers ${r.balance} %` : '') +
            ` other load ${(r.otherLoad * 100).toFixed(0)}%` +
            (r.errors ? ` (${r.errors})` : ''),
        );
      }
    }
  }
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\nRouter benchmark: ${cpus().length} × ${cpuModel}, Node ${process.version}, ${ROUNDS} rounds × ${SECONDS} s`,
  );
  console.log(
    '\n| target | scheme | conns | req/s (median) | p50 ms | p99 ms | proxy CPU-s / 10k req | vs nginx | other load |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const scheme of ['http', 'https']) {
    for (const conns of CONNECTIONS) {
      const ref = results.get(`${NGINX}|${scheme}|${conns}`);
      if (!ref) continue;
      const nginxRps = median(ref.map((r) => r.rps));
      for (const t of targets.filter((x) => x.scheme === scheme)) {
        const rs = results.get(`${t.name}|${scheme}|${conns}`);
        const rps = median(rs.map((r) => r.rps));
        const cpu = median(rs.map((r) => r.cpuPer10k));
        console.log(
          `| ${t.name} | ${scheme} | ${conns} | ${rps.toFixed(0)} | ${median(rs.map((r) => r.p50)).toFixed(2)} | ` +
            `${median(rs.map((r) => r.p99)).toFixed(2)} | ${Number.isNaN(cpu) ? '-' : cpu.toFixed(3)} | ` +
            `${(rps / nginxRps).toFixed(2)} | ${(median(rs.map((r) => r.otherLoad)) * 100).toFixed(0)}% |`,
        );
      }
    }
  }
  // Non-2xx answers or socket errors would make the req/s figures meaningless: say so.
  const failed = [...results].filter(([, rs]) => rs.some((r) => r.errors));
  if (failed.length === 0) console.log('\nNo errors or non-2xx answers in any run.');
  for (const [key, rs] of failed) console.log(`\nERRORS in ${key}: ${rs.map((r) => r.errors).join('; ')}`);
}

async function cleanup() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }
  const deadline = Date.now() + 5000;
  while (children.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  rmSync(work, { recursive: true, force: true });
}

await runBench({
  manual: import.meta.url,
  main,
  cleanup,
});
