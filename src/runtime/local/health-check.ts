/**
 * One health probe of an instance, as its HealthCheck says: `http` (GET on loopback, 2xx or 3xx),
 * `port` (a TCP connection is accepted) or `process` (it runs). Never throws: a failure carries
 * the reason, which ends up in waitHealthy's message.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthCheck } from '../runtime.types.ts';

export type ProbeResult = { ok: true } | { ok: false; reason: string };

/** Short, so that a hung instance does not hold up the next check for long. */
export const PROBE_TIMEOUT_MS = 1000;

const HOST = '127.0.0.1';

function probeHttp(port: number, endpoint: string): Promise<ProbeResult> {
  const path = endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
  return new Promise((resolve) => {
    // No keep-alive agent: every probe is a fresh connection, as a client after a restart would make.
    const req = request(
      { host: HOST, port, path, method: 'GET', agent: false, timeout: PROBE_TIMEOUT_MS },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        req.destroy();
        resolve(
          status >= 200 && status < 400
            ? { ok: true }
            : { ok: false, reason: `GET ${path} answered ${status}` },
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, reason: `GET ${path} failed: ${err.code ?? err.message}` }),
    );
    req.end();
  });
}

function probePort(port: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port, timeout: PROBE_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.once('timeout', () => socket.destroy(new Error(`no connection within ${PROBE_TIMEOUT_MS} ms`)));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, reason: `connect to port ${port} failed: ${err.code ?? err.message}` }),
    );
  });
}

/** Runs the instance's check once against its port; `running` answers the `process` type. */
export function probe(check: HealthCheck, port: number, running: () => boolean): Promise<ProbeResult> {
  switch (check.type) {
    case 'http':
      return probeHttp(port, check.endpoint || '/');
    case 'port':
      return probePort(port);
    case 'process':
      return Promise.resolve(running() ? { ok: true } : { ok: false, reason: 'the process is not running' });
  }
}
