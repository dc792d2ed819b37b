import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { TS_LOADER, TS_NODE_ARGS } from '../platform/ts-loader.ts';
import { type AdminSource, createAdminServer } from './admin.ts';
import type { InflightReport } from './balancer.ts';
import { type ToPrimary, type ToWorker, WORKER_OPTIONS_ENV, type WorkerOptions } from './cluster-protocol.ts';
import { followControlPlane } from './follow.ts';
import type { Log } from './log.ts';
import { mergeAll, type RawServiceMetrics, summariseAll } from './metrics.ts';
import type { ResolvedOptions } from './options.ts';
import { RouteStore, stateBox } from './route-store.ts';
import type { RunningRouter } from './router.ts';

/**
 * The clustered router: this process owns the route store and the admin API; N worker
 * processes share the public listening socket and do the proxying. Tables are broadcast to
 * workers; metrics and in-flight counts are gathered from them on request.
 * Why workers at all: docs/decisions/007-router-process-model.md.
 */

const STATS_TIMEOUT_MS = 2_000;
const START_TIMEOUT_MS = 30_000;
const RESTART_DELAY_MS = [250, 1_000, 5_000, 15_000];

type Stats = { metrics: Record<string, RawServiceMetrics>; inflight: InflightReport };

/** The worker's node flags: the TypeScript loader must load it, whatever ran this process (a test runner, main.ts). */
function workerExecArgv(): string[] {
  const keep: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '--import' || a === '--require' || a === '--loader') && argv[i + 1]) keep.push(a, argv[++i]!);
    else if (/^--(import|require|loader)=/.test(a) || a === '--enable-source-maps') keep.push(a);
  }
  const hasLoader = [...keep, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes(TS_LOADER));
  if (!hasLoader) keep.push(...TS_NODE_ARGS);
  return keep;
}

/** Starts the clustered router (see above); resolves once every worker listens. */
export async function startCluster(o: ResolvedOptions, log: Log): Promise<RunningRouter> {
  const store = new RouteStore(o.statePath, log, stateBox(o));
  await store.load();
  const workerOpts: WorkerOptions = {
    host: o.host,
    port: o.port,
    httpsPort: o.httpsPort,
    bodyLimit: o.bodyLimit,
    connectTimeoutMs: o.connectTimeoutMs,
    upstreamTimeoutMs: o.upstreamTimeoutMs,
    clientIdleTimeoutMs: o.clientIdleTimeoutMs,
    passiveDownMs: o.passiveDownMs,
    maxSocketsPerBackend: o.maxSocketsPerBackend,
    trustedProxies: o.trustedProxies,
    shutdownGraceMs: o.shutdownGraceMs,
    workers: o.workers,
    probeKey: o.probeKey,
    platformKey: o.platformKey,
  };
  cluster.setupPrimary({
    exec: fileURLToPath(new URL('./cluster-worker.ts', import.meta.url)),
    execArgv: workerExecArgv(),
    args: [],
  });

  const workers = new Set<Worker>();
  const pending = new Map<number, { left: number; got: Stats[]; done: (s: Stats[]) => void }>();
  let nextStatsId = 1;
  let closing = false;
  let restarts = 0;
  let resolveReady: (ports: { port: number; httpsPort: number | null }) => void = () => {};
  let rejectReady: (err: Error) => void = () => {};
  let readyCount = 0;
  const ready = new Promise<{ port: number; httpsPort: number | null }>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });

  const broadcast = (m: ToWorker) => {
    for (const w of workers) if (w.isConnected()) w.send(m);
  };
  store.onChange((table) => broadcast({ t: 'table', table }));

  // PUT /routes answers once every worker routes by the new table, so "200" means "live".
  const appliedBy = new Map<Worker, number>();
  let ackWaiters: { version: number; done: () => void }[] = [];
  const checkAcks = () => {
    const live = [...workers].filter((w) => w.isConnected());
    ackWaiters = ackWaiters.filter((a) => {
      const all = live.every((w) => (appliedBy.get(w) ?? -1) >= a.version);
      if (all) a.done();
      return !all;
    });
  };
  const appliedEverywhere = (version: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STATS_TIMEOUT_MS);
      ackWaiters.push({
        version,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      checkAcks();
    });

  const fork = (): void => {
    const w = cluster.fork({ [WORKER_OPTIONS_ENV]: JSON.stringify(workerOpts) });
    workers.add(w);
    w.on('message', (m: ToPrimary) => {
      if (m.t === 'hello') {
        w.send({ t: 'table', table: store.current() } satisfies ToWorker);
      } else if (m.t === 'applied') {
        appliedBy.set(w, Math.max(appliedBy.get(w) ?? -1, m.version));
        checkAcks();
      } else if (m.t === 'ready') {
        readyCount++;
        if (readyCount === o.workers) resolveReady({ port: m.port, httpsPort: m.httpsPort });
      } else if (m.t === 'failed') {
        rejectReady(new Error(`router worker could not listen: ${m.message}`));
      } else if (m.t === 'stats') {
        const p = pending.get(m.id);
        if (!p) return;
        p.got.push({ metrics: m.metrics, inflight: m.inflight });
        if (--p.left === 0) p.done(p.got);
      }
    });
    const forkedAt = Date.now();
    w.on('exit', (code, signal) => {
      workers.delete(w);
      appliedBy.delete(w);
      checkAcks();
      if (closing) return;
      // Back-off grows with crashes in a row; a worker that ran a while starts the count again.
      if (Date.now() - forkedAt > 60_000) restarts = 0;
      // A crashed worker costs its own connections; the others keep serving while it restarts.
      const delay = RESTART_DELAY_MS[Math.min(restarts++, RESTART_DELAY_MS.length - 1)]!;
      log.error({ pid: w.process.pid, code, signal, restartInMs: delay }, 'router worker exited');
      setTimeout(() => {
        if (!closing) fork();
      }, delay).unref();
    });
  };
  for (let i = 0; i < o.workers; i++) fork();

  const killAll = () => {
    closing = true;
    for (const w of workers) w.process.kill('SIGKILL');
  };
  const startTimer = setTimeout(
    () => rejectReady(new Error('router workers did not start in time')),
    START_TIMEOUT_MS,
  );
  let port: number;
  let httpsPort: number | null;
  try {
    ({ port, httpsPort } = await ready);
  } catch (err) {
    killAll();
    throw err;
  } finally {
    clearTimeout(startTimer);
  }

  /** Asks every live worker for its counters; a worker that does not answer in time is left out. */
  const gather = (): Promise<Stats[]> =>
    new Promise((resolve) => {
      const id = nextStatsId++;
      const live = [...workers].filter((w) => w.isConnected());
      if (live.length === 0) return resolve([]);
      const timer = setTimeout(() => finish(pending.get(id)?.got ?? []), STATS_TIMEOUT_MS);
      const finish = (s: Stats[]) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(s);
      };
      pending.set(id, { left: live.length, got: [], done: finish });
      for (const w of live) w.send({ t: 'stats', id } satisfies ToWorker);
    });

  const source: AdminSource = {
    health: () => ({ workers: [...workers].map((w) => w.process.pid) }),
    table: () => store.current(),
    update: async (t) => {
      const result = await store.update(t);
      if (result === 'applied') await appliedEverywhere(t.version);
      return result;
    },
    metrics: async () => summariseAll((await gather()).map((s) => s.metrics)),
    rawMetrics: async () => mergeAll((await gather()).map((s) => s.metrics)),
    inflight: async () => {
      const out: InflightReport = {};
      for (const s of await gather()) {
        for (const [id, n] of Object.entries(s.inflight)) {
          const cur = out[id] ?? { requests: 0, websockets: 0 };
          cur.requests += n.requests;
          cur.websockets += n.websockets;
          out[id] = cur;
        }
      }
      return out;
    },
  };
  const admin = createAdminServer(source, o.adminToken, log);
  const unfollow = o.controlPlane ? followControlPlane(o.controlPlane, source, log) : () => {};
  let adminPort: number;
  try {
    adminPort = await admin.listen(o.adminHost, o.adminPort);
  } catch (err) {
    killAll();
    throw err;
  }

  let closed: Promise<void> | null = null;
  return {
    port,
    httpsPort,
    adminPort,
    close: (graceMs = o.shutdownGraceMs) => {
      closed ??= (async () => {
        unfollow();
        closing = true;
        const exits = [...workers].map((w) => new Promise<void>((r) => w.once('exit', () => r())));
        broadcast({ t: 'shutdown', graceMs });
        // Workers exit once drained; one that hangs past the grace period is killed.
        const hard = setTimeout(() => {
          for (const w of workers) w.process.kill('SIGKILL');
        }, graceMs + 5_000);
        await Promise.all(exits);
        clearTimeout(hard);
        await admin.close();
      })();
      return closed;
    },
  };
}
