/**
 * The route table the control plane gives the router. The router keeps the last one it
 * received on disk, so it serves the same routes while the control plane restarts.
 */

export interface Backend {
  /** Instance id, so that drains and metrics can name it. */
  id: string;
  /** Always a loopback address on the local runtime, e.g. `http://127.0.0.1:41234`. */
  url: string;
}

export interface Route {
  /** Host name citizens use, lower case, no port: `etax.ird.localhost`. */
  hostname: string;
  /** `DEPT/slug`: the label for metrics. */
  service: string;
  kind: 'proxy' | 'static';
  /** Healthy instances, for `proxy` routes; empty means 503. */
  backends: Backend[];
  /** Folder served as files, for `static` routes. */
  staticRoot?: string;
  /** Off only when false (absent: on once a certificate covers the host): HTTP → HTTPS redirect, HSTS. */
  httpsRedirect?: boolean;
  hsts?: boolean;
}

export interface RouteTable {
  /** Grows with every change; the router ignores a table older than the one it has. */
  version: number;
  routes: Route[];
  /** Certificates served by SNI: PEM chain (leaf first) and key (clear only in a table handed to a router). */
  certificates?: { id: string; chain: string; key: string }[];
}
