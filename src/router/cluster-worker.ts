/**
 * Entry of a proxy worker process (node:cluster). It serves citizens' traffic on the listening
 * socket it shares with its siblings, and takes route tables, stats requests and the shutdown
 * order from the primary over IPC. It holds no state of its own beyond counters.
 */
import type { ToPrimary, ToWorker, WorkerOptions } from './cluster-protocol.ts';
import { WORKER_OPTIONS_ENV } from './cluster-protocol.ts';
import { installCrashGuard } from './crash-guard.ts';
import { createEngine } from './engine.ts';
import { stderrLog } from './log.ts';

const send = (m: ToPrimary) => process.send?.(m);
const opts = JSON.parse(process.env[WORKER_OPTIONS_ENV] ?? '{}') as WorkerOptions;
const log = stderrLog;
// Options the engine does not read in a worker get inert values.
const engine = createEngine(
  {
    ...opts,
    adminToken: '',
    statePath: null,
    stateKey: null,
    adminHost: '',
    adminPort: 0,
    controlPlane: null,
  },
  log,
);

installCrashGuard(log, (graceMs) => engine.close(graceMs), Math.min(opts.shutdownGraceMs, 10_000));

let closing = false;
function shutdown(graceMs: number): void {
  if (closing) return;
  closing = true;
  engine.close(graceMs).then(() => process.exit(0));
}

let listening = false;
process.on('message', (m: ToWorker) => {
  if (m.t === 'table') {
    engine.index.apply(m.table);
    send({ t: 'applied', version: m.table.version });
    // The first table arrives before the worker listens, so it never answers 404 for a host
    // the router knows.
    if (!listening) {
      listening = true;
      engine.listen().then(
        ({ port, httpsPort }) => send({ t: 'ready', port, httpsPort }),
        (err: Error) => {
          send({ t: 'failed', message: err.message });
          process.exit(1);
        },
      );
    }
  } else if (m.t === 'stats') {
    send({ t: 'stats', id: m.id, metrics: engine.metrics.raw(), inflight: engine.backends.inflight() });
  } else if (m.t === 'shutdown') {
    shutdown(m.graceMs);
  }
});
// Messages sent before this listener existed would be lost: ask for the table only now.
send({ t: 'hello' });
// A signal sent to the whole process group reaches workers too: they drain like on the
// primary's order, rather than dying with requests in flight.
process.on('SIGTERM', () => shutdown(opts.shutdownGraceMs));
process.on('SIGINT', () => shutdown(opts.shutdownGraceMs));
