import http from 'node:http';
import { PROBE_HEADER } from '../router/probe-key.ts';
import type { ProbeResult } from './monitoring.types.ts';

export interface ProbeTarget {
  /** The Host header citizens send, e.g. `tax.ird.gov.localhost`. */
  hostname: string;
  path: string;
}

/**
 * Probes services through the router as a citizen would: GET with the service's Host header.
 * Keep-alive connections are shared by every probe, so probing costs one request per service
 * and no new connection. Success is any answer below 500.
 */
export class Prober {
  private readonly agent: http.Agent;
  private base: { url: string; host: string; port: number } | null = null;
  inFlight = 0;

  constructor(
    /** The router's public URL; read at each probe because a restarted router may move. */
    private readonly routerUrl: () => string,
    private readonly timeoutMs: number,
    maxSockets = 256,
    /**
     * The router's probe key, read at each probe (a router started again may have another): with
     * it the router counts probes apart from citizens' requests. Null: probes count as citizens.
     */
    private readonly probeKey: () => string | null = () => null,
  ) {
    // Idle sockets close well before the router's 65 s idle timeout, so a probe seldom meets
    // one the router is closing at that moment (and retries once when it does).
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 30_000 });
  }

  private router(): { host: string; port: number } {
    const url = this.routerUrl();
    if (this.base?.url !== url) {
      const u = new URL(url);
      this.base = { url, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) };
    }
    return this.base;
  }

  probe(target: ProbeTarget): Promise<ProbeResult> {
    const at = Date.now();
    const started = performance.now();
    this.inFlight++;
    return this.attempt(target, started, true).then((r) => {
      this.inFlight--;
      return { at, ...r };
    });
  }

  private attempt(target: ProbeTarget, started: number, mayRetry: boolean): Promise<Omit<ProbeResult, 'at'>> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: { ok: boolean; status: number | null; error: string | null }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ ...r, ms: Math.round((performance.now() - started) * 100) / 100 });
      };
      const { host, port } = this.router();
      const key = this.probeKey();
      const headers: http.OutgoingHttpHeaders = {
        host: target.hostname,
        'user-agent': 'govhost-probe/1',
        accept: '*/*',
      };
      if (key) headers[PROBE_HEADER] = key;
      const req = http.request(
        {
          host,
          port,
          path: target.path,
          method: 'GET',
          agent: this.agent,
          headers,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          // The body is not needed, but reading it to the end keeps the socket reusable.
          res.resume();
          res.on('end', () =>
            finish({ ok: status < 500, status, error: status < 500 ? null : `HTTP ${status}` }),
          );
          res.on('error', (err) => finish({ ok: false, status, error: err.message }));
        },
      );
      const left = this.timeoutMs - (performance.now() - started);
      const timer = setTimeout(
        () => {
          finish({ ok: false, status: null, error: `timeout after ${this.timeoutMs} ms` });
          req.destroy();
        },
        Math.max(1, left),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (done) return;
        // A kept-alive socket the server closed just as we reused it: not the service's fault.
        if (mayRetry && req.reusedSocket && err.code === 'ECONNRESET') {
          done = true;
          clearTimeout(timer);
          resolve(this.attempt(target, started, false));
          return;
        }
        finish({ ok: false, status: null, error: err.code ?? err.message });
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
