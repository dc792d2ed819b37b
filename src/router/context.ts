import type { BackendRegistry } from './balancer.ts';
import type { ClientConnection } from './client-conn.ts';
import type { ForwardOptions } from './headers.ts';
import type { Log } from './log.ts';
import type { RawServiceMetrics } from './metrics.ts';
import type { RouteIndex } from './route-index.ts';
import type { TunnelSet } from './websocket.ts';

/** Limits applied to each proxied request. */
export interface ProxyOptions extends ForwardOptions {
  /** Largest request body forwarded, in bytes; larger ones get 413. */
  bodyLimit: number;
  /** Time to open a TCP connection to a backend before trying another (or 504). */
  connectTimeoutMs: number;
  /** Time for a backend to start its response before the client gets 504. */
  upstreamTimeoutMs: number;
  /** A client connection with no traffic for this long is closed (also the keep-alive idle time). */
  clientIdleTimeoutMs: number;
  /** Time a client has to send a whole request head. */
  headersTimeoutMs: number;
}

/** One request the router read and answered, as an access log would show it. */
export interface RequestRecord {
  /** Service label of the route, or `(unknown)`. */
  readonly service: string;
  readonly method: string;
  readonly target: string;
  readonly status: number;
  /** Request body bytes read from the client (all forwarded when `forwarded`). */
  readonly bytesIn: number;
  /** How many times its head was sent to a backend (0: answered by the router alone). */
  readonly forwarded: number;
}

/** Where a request the router answers itself is counted: a service's counters and its label. */
export interface Counter {
  readonly metrics: RawServiceMetrics;
  readonly service: string;
}

/** What request handling needs from the rest of the router. */
export interface ProxyContext {
  readonly index: RouteIndex;
  readonly backends: BackendRegistry;
  readonly opts: ProxyOptions;
  /** Counters for requests that match no route. */
  readonly unknown: RawServiceMetrics;
  readonly connections: Set<ClientConnection>;
  /** Called whenever a client connection closes (shutdown waits on it). */
  onConnectionClosed: (() => void) | null;
  readonly tunnels: TunnelSet;
  readonly log: Log;
  /** Header line that lets the internal static file server trust a request. */
  staticKey: string;
  /** Header line with the platform key, added to requests for `platform` routes (probe-key.ts). */
  platformKey: string;
  /** The platform's probe key (probe-key.ts); empty: no request counts as a probe. */
  probeKey: Buffer;
  /** True once shutdown began: responses then close their connection. */
  draining: boolean;
  /** This listener terminates TLS. */
  readonly secure: boolean;
  /**
   * Where plain-HTTP requests are redirected for HTTPS: `''` (port 443) or `:<port>`; null on the
   * HTTPS listener itself, and when the router does not listen for HTTPS.
   */
  httpsPortSuffix: string | null;
  /** Told of every request answered; null when nobody listens. */
  onRequest: ((r: RequestRecord) => void) | null;
}
