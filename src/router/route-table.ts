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
  /**
   * Once a certificate covers the host: plain-HTTP requests are redirected to HTTPS (301, 308
   * for methods other than GET and HEAD) unless this is false (decision 030).
   */
  httpsRedirect?: boolean;
  /** Once a certificate covers the host: HTTPS responses carry HSTS unless this is false. */
  hsts?: boolean;
  /**
   * The platform's own server (the payment host): its requests carry the router's platform key
   * (probe-key.ts), so the platform can trust how they arrived. Never set for a hosted service.
   */
  platform?: boolean;
  /**
   * A migration in progress (strangler pattern): part of the traffic goes to the legacy service
   * this one replaces. Absent: every request goes to `backends`, at no cost (decision 035).
   */
  cutover?: Cutover;
}

/** How a route's requests are shared between its new release and a legacy upstream. */
export interface Cutover {
  /** The legacy service's origin, `http://host[:port]` or `https://host[:port]`, no path. */
  legacyUrl: string;
  /** The Host header sent to the legacy upstream; absent: the citizen's own. */
  legacyHost?: string;
  /** PEM CA certificates trusted for an HTTPS legacy upstream; absent: Node's usual roots. */
  legacyCa?: string;
  /** Whole percent (0-100) of requests for the new release; the rest go to the legacy upstream. */
  percent: number;
  /** Path prefixes (`/forms`) the new release already serves whole, whatever the percent. */
  newPaths?: string[];
  /**
   * Each client stays on one side: the side is chosen by a hash of its address rather than by
   * turn, so raising the percent only ever moves clients from legacy to new.
   */
  sticky?: boolean;
}

/**
 * A certificate the router terminates TLS with, chosen by SNI for the names its leaf covers.
 * The key travels only over the authenticated admin channel or route stream, and is sealed in
 * the router's state file (decision 030).
 */
export interface TableCertificate {
  /** The control plane's id for it, for logs. */
  id: string;
  /** PEM chain: the leaf first, then its intermediates. */
  chain: string;
  /** PEM private key of the leaf (unencrypted, PKCS#8, SEC1 or PKCS#1). */
  key: string;
}

export interface RouteTable {
  /** Grows with every change; the router ignores a table older than the one it has. */
  version: number;
  routes: Route[];
  /** Certificates for HTTPS; absent or empty: the HTTPS listener completes no handshake. */
  certificates?: TableCertificate[];
  /**
   * ACME HTTP-01 challenges in progress: the router answers `GET /.well-known/acme-challenge/<token>`
   * on its HTTP port, for any host, with the key authorization (RFC 8555 §8.3).
   */
  acmeChallenges?: AcmeChallenge[];
}

export interface AcmeChallenge {
  /** The CA's token, base64url. */
  token: string;
  /** `<token>.<account key thumbprint>`, the body the CA expects. */
  keyAuthorization: string;
}
